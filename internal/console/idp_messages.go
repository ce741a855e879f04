package console

import "maps"

// The texts of the identity provider and passkey parts (issue 18), merged into the
// console's catalogue.
var idpMessagesEN = map[string]string{
	"nav.idps": "Identity providers", "idps.title": "Identity providers", "idps.new": "Add identity provider",
	"idps.edit": "Identity provider", "idps.mandatory": "Mandatory",
	"idps.confirm.delete": "Delete identity provider %s? Its links to users are removed; the users stay.",
	"idps.redirect":       "Register this redirect URI at the provider:",
	"idps.secret.new":     "The client secret opsiam was given by the provider; empty for a public client.",
	"idps.secret.keep":    "Write-only: leave empty to keep the stored secret.",
	"idps.nocustomer":     "None (platform staff)",
	"field.issuer":        "Issuer URL", "field.client_secret": "Client secret", "field.scopes": "Scopes (space-separated)",
	"field.domains": "Mail domains", "field.auto_create": "Create users at first sign-in", "field.role_ids": "Roles of created users",
	"field.mandatory":  "Mandatory (no local password for its users)",
	"identities.title": "Upstream accounts", "identities.provider": "Identity provider", "identities.subject": "Subject",
	"identities.none": "This user is linked to no upstream account.", "identities.unlink": "Unlink",
	"identities.confirm.unlink": "Unlink this user from %s? The upstream account no longer signs it in.",
	"done.unlinked":             "The link was removed.",
	"identities.link":           "Link", "done.linked": "The user is linked to the upstream account.",
	"passkeys.title": "Passkeys", "passkeys.name": "Name", "passkeys.synced": "Synced to other devices",
	"passkeys.lastused": "Last used", "passkeys.none": "This user has no passkey.", "passkeys.remove": "Remove",
	"passkeys.confirm.remove":  "Remove passkey %s? It no longer signs this user in.",
	"passkeys.reason.reserved": "Only %s itself removes its passkeys.",
	"done.passkey_removed":     "The passkey was removed.",
}

var idpMessagesJA = map[string]string{
	"nav.idps": "ID プロバイダー", "idps.title": "ID プロバイダー", "idps.new": "ID プロバイダーの追加",
	"idps.edit": "ID プロバイダー", "idps.mandatory": "必須",
	"idps.confirm.delete": "ID プロバイダー %s を削除しますか？ユーザーとの連携は解除されますが、ユーザーは残ります。",
	"idps.redirect":       "プロバイダーに次のリダイレクト URI を登録してください:",
	"idps.secret.new":     "プロバイダーが opsiam に発行したクライアントシークレット。パブリッククライアントの場合は空欄。",
	"idps.secret.keep":    "書き込み専用です。空欄のままにすると保存済みのシークレットを維持します。",
	"idps.nocustomer":     "なし（プラットフォームの担当者）",
	"field.issuer":        "Issuer URL", "field.client_secret": "クライアントシークレット", "field.scopes": "スコープ（空白区切り）",
	"field.domains": "メールドメイン", "field.auto_create": "初回サインイン時にユーザーを作成", "field.role_ids": "作成するユーザーのロール",
	"field.mandatory":  "必須（このユーザーはローカルパスワードを使えない）",
	"identities.title": "外部アカウント", "identities.provider": "ID プロバイダー", "identities.subject": "サブジェクト",
	"identities.none": "このユーザーは外部アカウントと連携していません。", "identities.unlink": "連携解除",
	"identities.confirm.unlink": "%s との連携を解除しますか？その外部アカウントではサインインできなくなります。",
	"done.unlinked":             "連携を解除しました。",
	"identities.link":           "連携", "done.linked": "ユーザーを外部アカウントと連携しました。",
	"passkeys.title": "パスキー", "passkeys.name": "名前", "passkeys.synced": "他の端末と同期",
	"passkeys.lastused": "最終使用", "passkeys.none": "このユーザーにはパスキーがありません。", "passkeys.remove": "削除",
	"passkeys.confirm.remove":  "パスキー %s を削除しますか？このパスキーではサインインできなくなります。",
	"passkeys.reason.reserved": "%s のパスキーは本人だけが削除できます。",
	"done.passkey_removed":     "パスキーを削除しました。",
}

// withIdP returns base with the identity provider texts added.
func withIdP(base, idp map[string]string) map[string]string {
	out := maps.Clone(base)
	maps.Copy(out, idp)
	return out
}
