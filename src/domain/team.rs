//! Who may do what in an account: the roles of its users and API keys, the permissions each
//! resolver and route asks for, and the one table joining them (`docs/rules.md` §2).

domain_enum! {
    /// What a user or an API key may do in its account.
    pub enum Role {
        /// Everything, including managing users (owners too), API keys and stores. The first
        /// user of an account is its owner; an account always keeps at least one.
        Owner = "OWNER",
        /// Everything an owner may, except making, changing or removing owners.
        Admin = "ADMIN",
        /// Day-to-day warehouse work: reads orders and products, ships, prints documents,
        /// cancels orders, adjusts stock and starts syncs. Cannot connect, change or
        /// disconnect stores, change prices, set stock to a figure, delete products, or read
        /// store settings (credentials' scopes, return address, contact rules).
        Staff = "STAFF",
        /// Reads orders, products, stock movements, stores and sync runs; changes nothing.
        Viewer = "VIEWER",
    }
}

/// What a resolver or route needs from its caller. Every GraphQL root field names one
/// (`graphql::permissions`), and [`Role::may`] is the only place that says which roles have it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Anyone, without a token: `register`, `login`.
    Public,
    /// Any signed-in caller, about itself: `me`, `logout`, `changePassword`, `sessions`.
    Own,
    /// Read orders, products, stock movements, stores (without their settings) and sync runs.
    Read,
    /// Read a store's settings: scopes, return address, IOSS number, contact rules.
    ReadStoreSettings,
    /// Ship orders and retry shipment pushes.
    Ship,
    /// Render invoices and labels (`createDocumentLink`).
    PrintDocuments,
    /// Cancel orders.
    CancelOrders,
    /// Add to or take from a product's stock.
    AdjustStock,
    /// Set a product's stock to a figure.
    SetStock,
    /// Change prices.
    ChangePrices,
    /// Delete products.
    DeleteProducts,
    /// Start an import now.
    SyncNow,
    /// Connect, update and disconnect stores, and change their logos.
    ManageStores,
    /// Invite users, change their roles, remove them.
    ManageUsers,
    /// Create, list and revoke API keys.
    ManageApiKeys,
    /// Read the audit trail.
    ReadAudit,
}

impl Role {
    /// Every role, from the most to the least trusted.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Staff, Role::Viewer];

    /// Whether a caller with this role has `permission`. Limits within a permission (an admin
    /// cannot change an owner) are checked by the use case.
    pub fn may(self, permission: Permission) -> bool {
        use Permission as P;
        match self {
            Role::Owner | Role::Admin => true,
            Role::Staff => matches!(
                permission,
                P::Public
                    | P::Own
                    | P::Read
                    | P::Ship
                    | P::PrintDocuments
                    | P::CancelOrders
                    | P::AdjustStock
                    | P::SyncNow
            ),
            Role::Viewer => matches!(permission, P::Public | P::Own | P::Read),
        }
    }

    /// Whether a caller with this role may give `other` to someone, or change or remove
    /// someone who has it: only an owner touches owners.
    pub fn may_manage(self, other: Role) -> bool {
        self.may(Permission::ManageUsers) && (other != Role::Owner || self == Role::Owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_and_admins_manage_and_only_owners_touch_owners() {
        assert!(Role::Owner.may_manage(Role::Owner));
        assert!(!Role::Admin.may_manage(Role::Owner));
        assert!(Role::Admin.may_manage(Role::Admin));
        assert!(Role::Admin.may_manage(Role::Staff));
        assert!(!Role::Staff.may_manage(Role::Viewer));
        assert!(!Role::Viewer.may_manage(Role::Viewer));
    }

    #[test]
    fn staff_ship_and_adjust_but_never_set_prices_or_stock_figures() {
        for allowed in [
            Permission::Ship,
            Permission::AdjustStock,
            Permission::CancelOrders,
        ] {
            assert!(Role::Staff.may(allowed));
            assert!(!Role::Viewer.may(allowed));
        }
        for refused in [
            Permission::ChangePrices,
            Permission::SetStock,
            Permission::ManageStores,
            Permission::DeleteProducts,
            Permission::ReadStoreSettings,
        ] {
            assert!(!Role::Staff.may(refused));
        }
    }
}
