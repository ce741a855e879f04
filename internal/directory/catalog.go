package directory

// Permission is something a primitive role allows inside opsiam (SPEC §8
// role catalogue, R5). Permissions are checked through effective roles
// (RoleSet.Permits), never through role names in handlers.
type Permission string

// Permissions of the role catalogue of SPEC §8.
const (
	PermUserRead      Permission = "user.read"      // read users, groups, roles, customers, relations, skills
	PermUserWrite     Permission = "user.write"     // change users, groups, roles, customers, relations, skills
	PermTokenAdmin    Permission = "token.admin"    // issue and revoke platform tokens (A6)
	PermCustomerAdmin Permission = "customer.admin" // within one's own customer: read, enable/disable, reset passwords
	PermAuditRead     Permission = "audit.read"     // read the audit log (O1)
	PermClientWrite   Permission = "client.write"   // manage OIDC clients, webhooks, provisioning (S1, P3)
	PermBillingRead   Permission = "billing.read"   // read billing counts and reports (B1)
)

// Names of the Primitive roles of SPEC §8. Role names are compared ignoring
// case (Key), so these constants may be looked up with RoleGraph.ByName.
const (
	RoleNameUser              = "user" // implicit for everyone (R3); never assigned
	RoleNameUserAdmin         = "user_admin"
	RoleNameUserViewer        = "user_viewer"
	RoleNameTokenAdmin        = "token_admin"
	RoleNameCustomer          = "customer" // marks a customer user (C2, C3)
	RoleNameCustomerAdmin     = "customer_admin"
	RoleNameFreeUser          = "free_user" // marks a non-billed user (B1)
	RoleNameItsmAdmin         = "itsm_admin"
	RoleNameItsmManager       = "itsm_manager"
	RoleNameItsmUser          = "itsm_user"
	RoleNameItsmViewer        = "itsm_viewer"
	RoleNameCalendarUser      = "calendar_user"
	RoleNameAutomationManager = "automation_manager"
	RoleNameAutomationAuditor = "automation_auditor"
	RoleNameAutomationUser    = "automation_user"
	RoleNameRepositoryAdmin   = "repository_admin"
	// RoleNameOutpostAgent is the primitive that §8 calls `outpost`. It is
	// spelled outpost_agent because role names are unique ignoring case (§8)
	// and the Pre-Installed role "Outpost" of the original product already
	// takes that name.
	RoleNameOutpostAgent = "outpost_agent"
)

// Names of the Pre-Installed roles of SPEC §8.
const (
	RoleNameSystemSecurityAdmin       = "System Security Administrator" // held by the reserved admin user
	RoleNameSystemAdmin               = "System Administrator"
	RoleNameManager                   = "Manager"
	RoleNameSystemDevelopmentEngineer = "System Development Engineer"
	RoleNameSiteReliabilityEngineer   = "Site Reliability Engineer"
	RoleNameOutpost                   = "Outpost"
	RoleNameCustomerUser              = "Customer User"    // makes a customer user with a customer set (C2)
	RoleNameCustomerManager           = "Customer Manager" // the same, plus customer_admin (C2)
)

// CatalogRole is one predefined role of SPEC §8: its name, its type
// (Primitive or Pre-Installed), a description for the console, the names of
// the roles it contains (Pre-Installed only) and what it permits inside
// opsiam (Primitive only). The server installs and upgrades these roles
// itself (R2, STYLE P10).
type CatalogRole struct {
	Name        string
	Type        RoleType
	Description string
	Contains    []string
	Permits     []Permission
}

// Catalog returns the predefined role catalogue of SPEC §8, primitives
// first, then pre-installed roles. It is data: the one place to edit when the
// catalogue changes. Each call returns a fresh copy.
func Catalog() []CatalogRole {
	p := func(name, desc string, permits ...Permission) CatalogRole {
		return CatalogRole{Name: name, Type: RolePrimitive, Description: desc, Permits: permits}
	}
	b := func(name, desc string, contains ...string) CatalogRole {
		return CatalogRole{Name: name, Type: RolePreInstalled, Description: desc, Contains: contains}
	}
	return []CatalogRole{
		p(RoleNameUser, "Implicit role of every user: sign in and use the own account page."),
		p(RoleNameUserAdmin, "Read and change users, groups, roles, customers, relations and skills; manage OIDC clients, webhooks and provisioning; read the audit log.",
			PermUserRead, PermUserWrite, PermAuditRead, PermClientWrite, PermBillingRead),
		p(RoleNameUserViewer, "Read users, groups, roles, customers and billing.",
			PermUserRead, PermBillingRead),
		p(RoleNameTokenAdmin, "Issue and revoke platform API tokens.", PermTokenAdmin),
		p(RoleNameCustomer, "Marks a customer user; with a customer set, limits the user to that customer's records."),
		p(RoleNameCustomerAdmin, "Within the own customer only: read users, enable or disable them, send password resets.",
			PermCustomerAdmin),
		p(RoleNameFreeUser, "Marks a non-billed user that needs no licence."),
		p(RoleNameItsmAdmin, "ITSM agent kind Administrator: system administration of the ITSM app."),
		p(RoleNameItsmManager, "ITSM agent kind Operation Manager: checks operation."),
		p(RoleNameItsmUser, "ITSM agent kind Operation Agent: creates, changes and deletes."),
		p(RoleNameItsmViewer, "ITSM agent kind Viewer: browses and searches."),
		p(RoleNameCalendarUser, "Create calendar lists on the schedule tab; carried to applications in tokens."),
		p(RoleNameAutomationManager, "Manage outposts (relay servers) and use automation; carried to applications in tokens."),
		p(RoleNameAutomationAuditor, "Use automation as an auditor; carried to applications in tokens."),
		p(RoleNameAutomationUser, "Use automation; carried to applications in tokens."),
		p(RoleNameRepositoryAdmin, "Open the repository management window; carried to applications in tokens."),
		p(RoleNameOutpostAgent, "Lets relay-server agents connect; carried to applications in tokens."),

		b(RoleNameSystemSecurityAdmin, "System administrator who also issues platform tokens.",
			RoleNameUserAdmin, RoleNameTokenAdmin, RoleNameItsmAdmin, RoleNameRepositoryAdmin, RoleNameAutomationManager, RoleNameCalendarUser),
		b(RoleNameSystemAdmin, "System administrator of the platform.",
			RoleNameUserAdmin, RoleNameItsmAdmin, RoleNameRepositoryAdmin, RoleNameAutomationManager, RoleNameCalendarUser),
		b(RoleNameManager, "Operation management office.",
			RoleNameUserViewer, RoleNameItsmManager, RoleNameAutomationAuditor, RoleNameCalendarUser),
		b(RoleNameSystemDevelopmentEngineer, "Designs and builds the services offered on the platform.",
			RoleNameRepositoryAdmin, RoleNameAutomationUser, RoleNameItsmUser, RoleNameCalendarUser),
		b(RoleNameSiteReliabilityEngineer, "Operation manager, operation agent and maintenance engineer at once.",
			RoleNameUserViewer, RoleNameRepositoryAdmin, RoleNameAutomationManager, RoleNameItsmManager, RoleNameCalendarUser),
		b(RoleNameOutpost, "Relay-server (outpost) setup.",
			RoleNameOutpostAgent, RoleNameAutomationAuditor),
		b(RoleNameCustomerUser, "User of a customer; needs a customer set.",
			RoleNameCustomer),
		b(RoleNameCustomerManager, "User of a customer who manages that customer's users; needs a customer set.",
			RoleNameCustomer, RoleNameCustomerAdmin),
	}
}
