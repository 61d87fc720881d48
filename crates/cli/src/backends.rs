//! The secrets-manager backends this binary was built with: one cargo
//! feature each, each crate's factory registered by flavor.

use keystack_stack::BackendRegistry;

/// Every backend enabled by cargo features.
pub(crate) fn registry() -> BackendRegistry {
    let registry = BackendRegistry::new();
    #[cfg(feature = "local")]
    let registry = registry.with(keystack_secrets_local::LocalFactory);
    #[cfg(feature = "aws")]
    let registry = registry.with(keystack_secrets_aws::AwsFactory);
    #[cfg(feature = "gcp")]
    let registry = registry.with(keystack_secrets_gcp::GcpFactory);
    #[cfg(feature = "azure")]
    let registry = registry.with(keystack_secrets_azure::AzureFactory);
    #[cfg(feature = "vault")]
    let registry = registry.with(keystack_secrets_vault::VaultFactory);
    registry
}

#[cfg(test)]
mod tests {
    use keystack_secrets_core::settings::SettingKind;
    use keystack_stack::{AttributeType, Catalog, ComponentType};

    /// `crates/stack/flavors.yaml` describes every secrets-manager flavor
    /// again, as data: it must say exactly what the backend declares, so a
    /// setting added to a backend and forgotten in the catalogue fails here.
    #[test]
    fn the_catalogue_matches_every_backends_settings() {
        let catalog = Catalog::builtin();
        let registry = super::registry();
        let mut checked = 0;
        for factory in registry.factories() {
            let flavor = catalog
                .get(ComponentType::SecretsManager, factory.flavor())
                .unwrap_or_else(|e| panic!("{}: {e}", factory.flavor()));
            let declared: Vec<_> = factory
                .settings()
                .iter()
                .map(|s| {
                    let kind = match s.kind {
                        SettingKind::Text | SettingKind::Path => AttributeType::String,
                        SettingKind::Integer => AttributeType::Integer,
                        SettingKind::Boolean => AttributeType::Boolean,
                    };
                    (
                        s.name.to_owned(),
                        kind,
                        s.required.is_some(),
                        s.default_text(),
                    )
                })
                .collect();
            let catalogued: Vec<_> = flavor
                .attributes
                .iter()
                .map(|a| (a.name.clone(), a.kind, a.required, a.default.clone()))
                .collect();
            assert_eq!(
                catalogued,
                declared,
                "flavors.yaml's secrets_manager '{}' differs from the backend's settings",
                factory.flavor()
            );
            assert!(
                flavor
                    .attributes
                    .iter()
                    .all(|a| !a.sensitive && a.env.is_none()),
                "settings of a secrets manager are never credentials nor run-time variables"
            );
            checked += 1;
        }
        assert_eq!(checked, registry.factories().count());
        assert!(checked >= 1);
    }
}
