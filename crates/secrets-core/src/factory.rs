//! How a program finds its backends: each backend crate implements
//! [`BackendFactory`], and whoever builds managers from configuration (the
//! stack layer) holds a list of factories keyed by flavor. Core knows no
//! stacks: a factory gets the component's settings as text.

use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;

use crate::settings::SettingSpec;
use crate::{Result, SecretsManager};

/// What a backend is given to build a manager from a component.
pub struct BackendConfig<'a> {
    /// The component's name.
    pub component: &'a str,
    /// The component's settings: name and value as text.
    pub settings: Vec<(&'a str, String)>,
    /// The folder relative paths are taken from (the project's).
    pub base_dir: &'a Path,
    /// The component's own folder for data kept on this machine (the
    /// default store of a local backend). Never given to another component.
    pub data_dir: &'a Path,
    /// The environment the backend may read its fallbacks from.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl Debug for BackendConfig<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Settings hold no credentials, but the environment may: not shown.
        f.debug_struct("BackendConfig")
            .field("component", &self.component)
            .field("settings", &self.settings)
            .field("base_dir", &self.base_dir)
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl BackendConfig<'_> {
    /// The settings as `(name, value)` pairs of text.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.settings.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

/// Builds the managers of one flavor. Object-safe; each backend crate
/// exports one (e.g. `keystack_secrets_aws::AwsFactory`).
pub trait BackendFactory: Debug + Send + Sync + 'static {
    /// The flavor it builds (`aws`, `local`, …).
    fn flavor(&self) -> &'static str;

    /// Every setting the flavor takes, as declared by the backend.
    fn settings(&self) -> &'static [SettingSpec];

    /// Builds a manager from a component's configuration. Nothing is
    /// contacted: remote clients are set up on first use.
    fn build(&self, config: &BackendConfig<'_>) -> Result<Arc<dyn SecretsManager>>;

    /// Checks a component's settings as it is written: every name known,
    /// every value of its setting's type and within its bounds. What may
    /// still come from the environment (required settings, credentials) is
    /// left to [`BackendFactory::build`]; nothing is read or opened.
    fn check_settings(&self, config: &BackendConfig<'_>) -> Result<()> {
        let _ = config;
        Ok(())
    }
}

/// Declares a backend's factory for the one builder shape every backend has
/// (`from_lookup`, `with_settings`, `build`): the component's settings over
/// the environment's fallbacks, relative paths from the project folder.
///
/// ```text
/// keystack_secrets_core::backend_factory!(
///     /// Builds AWS managers from components.
///     AwsFactory, FLAVOR, AwsConfig, AwsBuilder, component(with_component_name)
/// );
/// ```
///
/// `component(METHOD)`, when given, also hands the builder the component's
/// name (`METHOD(&str)`).
#[macro_export]
macro_rules! backend_factory {
    ($(#[$meta:meta])* $Factory:ident, $flavor:expr, $Config:ty, $Builder:ty) => {
        $crate::backend_factory!($(#[$meta])* $Factory, $flavor, $Config, $Builder, |builder, _component| builder);
    };
    ($(#[$meta:meta])* $Factory:ident, $flavor:expr, $Config:ty, $Builder:ty, component($with:ident)) => {
        $crate::backend_factory!($(#[$meta])* $Factory, $flavor, $Config, $Builder, |builder, component| builder.$with(component));
    };
    ($(#[$meta:meta])* $Factory:ident, $flavor:expr, $Config:ty, $Builder:ty, |$b:ident, $c:ident| $also:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $Factory;

        impl $crate::BackendFactory for $Factory {
            fn flavor(&self) -> &'static str {
                $flavor
            }

            fn settings(&self) -> &'static [$crate::settings::SettingSpec] {
                <$Config>::SETTINGS
            }

            fn build(
                &self,
                config: &$crate::BackendConfig<'_>,
            ) -> $crate::Result<::std::sync::Arc<dyn $crate::SecretsManager>> {
                let $b = <$Builder>::from_lookup(config.env)
                    .with_settings(config.pairs(), config.base_dir)?;
                let $c: &str = config.component;
                let built = $also;
                Ok(::std::sync::Arc::new(built.build()?))
            }

            fn check_settings(&self, config: &$crate::BackendConfig<'_>) -> $crate::Result<()> {
                let nothing = |_: &str| -> Option<String> { None };
                let builder =
                    <$Builder>::from_lookup(nothing).with_settings(config.pairs(), config.base_dir)?;
                builder.config.check_bounds()
            }
        }
    };
}
