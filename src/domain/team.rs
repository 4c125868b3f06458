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

domain_enum! {
    /// What a recorded change was.
    pub enum AuditAction {
        /// A new account was registered (its first user, its owner).
        Register = "REGISTER",
        /// An invited user joined the account.
        JoinAccount = "JOIN_ACCOUNT",
        /// A user changed their password.
        ChangePassword = "CHANGE_PASSWORD",
        /// A user revoked one of their sessions.
        RevokeSession = "REVOKE_SESSION",
        /// A login with this account's email failed (wrong password, or throttled).
        LoginFailed = "LOGIN_FAILED",
        /// A store was connected (`connectBigCommerce`, `claimBigCommerceInstallation`).
        ConnectIntegration = "CONNECT_INTEGRATION",
        /// A store's settings or credentials changed.
        UpdateIntegration = "UPDATE_INTEGRATION",
        /// A store was disconnected.
        DisconnectIntegration = "DISCONNECT_INTEGRATION",
        /// A store's logo was set or removed.
        ChangeLogo = "CHANGE_LOGO",
        /// An import was started by hand.
        SyncNow = "SYNC_NOW",
        /// A product's stock was set to a figure.
        SetStock = "SET_STOCK",
        /// A product's stock was adjusted.
        AdjustStock = "ADJUST_STOCK",
        /// A product was deleted.
        DeleteProduct = "DELETE_PRODUCT",
        /// A product's low-stock threshold was set or cleared.
        SetLowStockThreshold = "SET_LOW_STOCK_THRESHOLD",
        /// A product's bin location was set or cleared.
        SetBinLocation = "SET_BIN_LOCATION",
        /// A bundle was created (or a product made a bundle).
        CreateBundle = "CREATE_BUNDLE",
        /// A bundle's components changed.
        UpdateBundleComponents = "UPDATE_BUNDLE_COMPONENTS",
        /// A bundle was deleted.
        DeleteBundle = "DELETE_BUNDLE",
        /// Orders were merged to ship as one parcel.
        MergeOrders = "MERGE_ORDERS",
        /// A merge of orders was taken apart.
        UnmergeOrders = "UNMERGE_ORDERS",
        /// A batch of orders was shipped (and its labels printed).
        CreateBatch = "CREATE_BATCH",
        /// A listing's own stock buffer was set or cleared.
        SetListingStockBuffer = "SET_LISTING_STOCK_BUFFER",
        /// A stock count file was applied.
        ImportStockCounts = "IMPORT_STOCK_COUNTS",
        /// A download link to the stock CSV was made.
        ExportStock = "EXPORT_STOCK",
        /// A listing's price changed.
        UpdatePrice = "UPDATE_PRICE",
        /// An order was canceled.
        CancelOrder = "CANCEL_ORDER",
        /// Orders were shipped.
        ShipOrders = "SHIP_ORDERS",
        /// A refused shipment push was retried.
        RetryShipmentPush = "RETRY_SHIPMENT_PUSH",
        /// Invoices or labels were rendered (invoice numbers are given on the first).
        CreateDocumentLink = "CREATE_DOCUMENT_LINK",
        /// Someone was invited.
        InviteUser = "INVITE_USER",
        /// An invitation was revoked.
        RevokeInvitation = "REVOKE_INVITATION",
        /// A user's role changed.
        UpdateUserRole = "UPDATE_USER_ROLE",
        /// A user was removed.
        RemoveUser = "REMOVE_USER",
        /// An API key was created.
        CreateApiKey = "CREATE_API_KEY",
        /// An API key was revoked.
        RevokeApiKey = "REVOKE_API_KEY",
    }
}

domain_enum! {
    /// How a sign-in attempt ended, as throttling counts it.
    pub enum SignInOutcome {
        /// A login with the right password.
        Succeeded = "SUCCEEDED",
        /// A login with a wrong password or an unknown email: counts towards the email's limit.
        Failed = "FAILED",
        /// A login refused unchecked because the email had too many failures.
        Throttled = "THROTTLED",
        /// A registration (counted per address only).
        Register = "REGISTER",
    }
}

/// What a resolver or route needs from its caller. Every GraphQL root field names one
/// (`graphql::permissions`), and [`Role::may`] is the only place that says which roles have it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Anyone, without a token: `register`, `login`.
    Public,
    /// Any signed-in user, about itself: `me`, `sessions`, `revokeSession`, `logout`,
    /// `changePassword`. Never an API key.
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
