package directory

// ITSM agent kinds (T1), the values of the itsm_role claim the ITSM client receives.
const (
	ITSMAdministrator    = "administrator"
	ITSMOperationManager = "operation_manager"
	ITSMOperationAgent   = "operation_agent"
	ITSMViewer           = "viewer"
)

// itsmKinds maps the ITSM primitives to agent kinds, highest first.
var itsmKinds = [...]struct{ role, kind string }{
	{RoleNameItsmAdmin, ITSMAdministrator},
	{RoleNameItsmManager, ITSMOperationManager},
	{RoleNameItsmUser, ITSMOperationAgent},
	{RoleNameItsmViewer, ITSMViewer},
}

// ITSMRole returns the ITSM agent kind of a user (T1, T2): the highest of
// itsm_admin > itsm_manager > itsm_user > itsm_viewer in its effective
// roles. ok is false for a user who may not use the ITSM app: one without
// any of those roles, and every customer user (C6), whatever roles it holds.
func ITSMRole(eff RoleSet, customer CustomerID) (kind string, ok bool) {
	if IsCustomerUser(eff, customer) {
		return "", false
	}
	for _, k := range itsmKinds {
		if eff.HasName(k.role) {
			return k.kind, true
		}
	}
	return "", false
}
