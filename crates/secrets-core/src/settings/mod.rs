//! Backend settings, each declared once.
//!
//! A backend lists its settings in one [`settings!`](crate::settings)
//! invocation: name, type, default, bounds, documentation and environment
//! fallback, one line each. From that list come the typed configuration
//! struct (serde, unknown fields refused), the key enum with its `FromStr`
//! and known-keys message, text parsing with one set of messages, the bound
//! checks, the environment fallbacks, the builder's typed setters and its
//! `with_config`, and [`SettingSpec`]s that describe each setting to the
//! rest of Keystack (the flavour catalogue is checked against them).
//!
//! Settings never hold credentials: those come from the environment, files
//! or dedicated builder methods, so a configuration's `Debug` shows it whole.

mod value;

pub use value::{FromEnvText, IntoSetting, SettingValue};

/// What kind of value a setting takes, as the flavour catalogue names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// Text.
    Text,
    /// A file or folder; relative paths are taken from the project folder.
    Path,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
}

/// One setting of a backend, as declared.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    /// Its name, as written in a component.
    pub name: &'static str,
    /// The kind of value.
    pub kind: SettingKind,
    /// Set when a component must give it (or its environment fallback):
    /// an example for the message that asks for it.
    pub required: Option<&'static str>,
    /// The value used when it is not given, as text.
    pub default: Option<fn() -> String>,
    /// Its documentation, from the declaration's doc comment.
    pub doc: &'static str,
    /// The environment variables read, in order, when it is not given.
    pub env: &'static [&'static str],
    /// The smallest value allowed (whole numbers).
    pub min: Option<i64>,
    /// The largest value allowed (whole numbers).
    pub max: Option<i64>,
}

impl SettingSpec {
    /// The default as text, if there is one.
    pub fn default_text(&self) -> Option<String> {
        self.default.map(|f| f())
    }

    /// The documentation on one line.
    pub fn doc_line(&self) -> String {
        self.doc.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The message for a required setting that is missing: `set NAME (or
    /// VAR), EXAMPLE`.
    pub fn missing_message(&self) -> String {
        let fallback = self
            .env
            .first()
            .map(|var| format!(" (or {var})"))
            .unwrap_or_default();
        format!(
            "set {}{fallback}, {}",
            self.name,
            self.required.unwrap_or("as its documentation says")
        )
    }

    /// Checks a whole number against the bounds, with the message every
    /// backend gives.
    pub fn check_bounds(&self, value: i64) -> Result<(), String> {
        match (self.min, self.max) {
            (Some(min), Some(max)) if !(min..=max).contains(&value) => Err(format!(
                "{} must be between {min} and {max}, not {value}",
                self.name
            )),
            (Some(min), None) if value < min => {
                Err(format!("{} must be at least {min}", self.name))
            }
            (None, Some(max)) if value > max => {
                Err(format!("{} must be at most {max}, not {value}", self.name))
            }
            _ => Ok(()),
        }
    }
}

/// Declares a backend's settings once; see the [module](crate::settings).
///
/// ```
/// use keystack_secrets_core::settings;
///
/// #[derive(Debug, Default)]
/// pub struct DemoBuilder {
///     config: DemoConfig,
/// }
///
/// settings! {
///     backend = "demo";
///     /// Settings of the demo backend.
///     pub struct DemoConfig;
///     /// The keys of [`DemoConfig`].
///     pub enum DemoConfigKey;
///     builder = DemoBuilder;
///     {
///         /// The server.
///         Url url: String, required("e.g. https://demo:1234"), env("DEMO_ADDR"), setter(with_url);
///         /// Entries per page.
///         PageSize page_size: u32 = 100u32, range(1, 500), setter(with_page_size);
///     }
/// }
///
/// let builder = DemoBuilder::default()
///     .with_config("page_size".parse().unwrap(), "20")
///     .unwrap();
/// assert_eq!(builder.config.page_size(), 20);
/// let err = "page".parse::<DemoConfigKey>().unwrap_err().to_string();
/// assert!(err.contains("known settings are url, page_size"), "{err}");
/// assert_eq!(DemoConfig::SETTINGS[1].default_text().as_deref(), Some("100"));
/// ```
///
/// Each line is `Variant field: Type [= default] [, required("e.g. …")]
/// [, env("VAR", …)] [, range(min, max)] [, min(n)] [, setter(name)];`.
/// The builder named must have a field `config` of the configuration type.
#[macro_export]
macro_rules! settings {
    (@accessor $field:ident $ty:ty = $default:expr) => {
        #[doc = concat!("`", stringify!($field), "`, or its default.")]
        pub fn $field(&self) -> $ty {
            self.$field.clone().unwrap_or_else(|| ($default).into())
        }
    };
    (@accessor $field:ident $ty:ty) => {};
    (@default $ty:ty = $default:expr) => {
        Some(|| {
            let value: $ty = ($default).into();
            $crate::settings::SettingValue::to_setting_text(&value)
        })
    };
    (@default $ty:ty) => {
        None
    };
    (@opt $value:expr) => {
        Some($value)
    };
    (@opt) => {
        None
    };
    (@setter $Builder:ident $field:ident $ty:ty, $setter:ident) => {
        #[doc = concat!("Sets `", stringify!($field), "`.")]
        pub fn $setter(mut self, value: impl $crate::settings::IntoSetting<$ty>) -> Self {
            self.config.$field = Some($crate::settings::IntoSetting::into_setting(value));
            self
        }
    };
    (@setter $Builder:ident $field:ident $ty:ty,) => {};
    (
        backend = $backend:expr;
        $(#[$cmeta:meta])* pub struct $Config:ident;
        $(#[$kmeta:meta])* pub enum $Key:ident;
        builder = $Builder:ident;
        {
            $(
                $(#[doc = $doc:literal])*
                $Variant:ident $field:ident : $ty:ty $(= $default:expr)?
                    $(, required($example:literal))?
                    $(, env($($env:literal),+ $(,)?))?
                    $(, range($lo:expr, $hi:expr))?
                    $(, min($min:expr))?
                    $(, setter($setter:ident))?
                ;
            )+
        }
    ) => {
        $(#[$cmeta])*
        #[derive(Clone, Default, PartialEq, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $Config {
            $(
                $(#[doc = $doc])*
                #[serde(default)]
                pub $field: Option<$ty>,
            )+
        }

        impl ::std::fmt::Debug for $Config {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                // Settings never hold credentials (see keystack_secrets_core::settings).
                f.debug_struct(stringify!($Config))
                    $(.field(stringify!($field), &self.$field))+
                    .finish()
            }
        }

        $(#[$kmeta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $Key {
            $(
                #[doc = concat!("[`", stringify!($Config), "::", stringify!($field), "`].")]
                $Variant,
            )+
        }

        impl $Key {
            /// Every key, in declaration order.
            pub const ALL: &'static [$Key] = &[$($Key::$Variant),+];

            /// The key as written in a component.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($Key::$Variant => stringify!($field),)+
                }
            }

            /// The declaration of this setting.
            pub fn spec(self) -> &'static $crate::settings::SettingSpec {
                let index = Self::ALL
                    .iter()
                    .position(|k| *k == self)
                    .expect("every key is in ALL");
                &$Config::SETTINGS[index]
            }
        }

        impl ::std::fmt::Display for $Key {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $Key {
            type Err = $crate::Error;

            fn from_str(s: &str) -> ::std::result::Result<Self, $crate::Error> {
                $Key::ALL
                    .iter()
                    .copied()
                    .find(|k| k.as_str() == s)
                    .ok_or_else(|| $crate::Error::InvalidConfig {
                        backend: $backend,
                        message: format!(
                            "unknown setting {s:?}; known settings are {}",
                            $Key::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    })
            }
        }

        impl $Config {
            /// Every setting, in declaration order.
            pub const SETTINGS: &'static [$crate::settings::SettingSpec] = &[
                $(
                    $crate::settings::SettingSpec {
                        name: stringify!($field),
                        kind: <$ty as $crate::settings::SettingValue>::KIND,
                        required: $crate::settings!(@opt $($example)?),
                        default: $crate::settings!(@default $ty $(= $default)?),
                        doc: concat!($($doc, " "),*),
                        env: &[$($($env),+)?],
                        min: $crate::settings!(@opt $($lo as i64)? $($min as i64)?),
                        max: $crate::settings!(@opt $($hi as i64)?),
                    },
                )+
            ];

            $($crate::settings!(@accessor $field $ty $(= $default)?);)+

            /// Sets one setting from text, as written in a component.
            pub fn set(&mut self, key: $Key, value: &str) -> ::std::result::Result<(), $crate::Error> {
                let invalid = |message: String| $crate::Error::InvalidConfig {
                    backend: $backend,
                    message,
                };
                match key {
                    $(
                        $Key::$Variant => {
                            self.$field = Some(
                                <$ty as $crate::settings::SettingValue>::parse_setting(
                                    stringify!($field),
                                    value,
                                )
                                .map_err(invalid)?,
                            );
                        }
                    )+
                }
                Ok(())
            }

            /// The settings that fall back to environment variables, read
            /// through `lookup` (an empty variable counts as unset).
            pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
                #[allow(unused_mut)]
                let mut config = Self::default();
                $(
                    $(
                        config.$field = [$($env),+]
                            .iter()
                            .find_map(|var| lookup(var).filter(|v| !v.is_empty()))
                            .map(<$ty as $crate::settings::FromEnvText>::from_env_text);
                    )?
                )+
                config
            }

            /// Checks that every required setting is given (and not empty).
            pub fn check_required(&self) -> ::std::result::Result<(), $crate::Error> {
                $(
                    let spec = $Key::$Variant.spec();
                    if spec.required.is_some()
                        && self.$field.as_ref().is_none_or(|v| {
                            $crate::settings::SettingValue::to_setting_text(v).is_empty()
                        })
                    {
                        return Err($crate::Error::InvalidConfig {
                            backend: $backend,
                            message: spec.missing_message(),
                        });
                    }
                )+
                Ok(())
            }

            /// Checks every given whole number against its bounds.
            pub fn check_bounds(&self) -> ::std::result::Result<(), $crate::Error> {
                $(
                    if let Some(n) = self
                        .$field
                        .as_ref()
                        .and_then($crate::settings::SettingValue::as_whole_number)
                    {
                        $Key::$Variant.spec().check_bounds(n).map_err(|message| {
                            $crate::Error::InvalidConfig {
                                backend: $backend,
                                message,
                            }
                        })?;
                    }
                )+
                Ok(())
            }
        }

        impl $Builder {
            $($crate::settings!(@setter $Builder $field $ty, $($setter)?);)+

            /// Sets one setting from text, as written in a component.
            pub fn with_config(mut self, key: $Key, value: &str) -> ::std::result::Result<Self, $crate::Error> {
                self.config.set(key, value)?;
                Ok(self)
            }

            /// Sets every setting of a component (`name`, text value); relative
            /// paths are taken from `base_dir`.
            pub fn with_settings<'s>(
                mut self,
                settings: impl IntoIterator<Item = (&'s str, &'s str)>,
                base_dir: &::std::path::Path,
            ) -> ::std::result::Result<Self, $crate::Error> {
                for (name, value) in settings {
                    let key: $Key = name.parse()?;
                    if key.spec().kind == $crate::settings::SettingKind::Path {
                        let path = base_dir.join(value);
                        self.config.set(key, &path.display().to_string())?;
                    } else {
                        self.config.set(key, value)?;
                    }
                }
                Ok(self)
            }
        }
    };
}

#[cfg(test)]
#[allow(dead_code, unreachable_pub)] // the generated API is wider than the tests use
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[derive(Debug, Default)]
    struct TestBuilder {
        config: TestConfig,
    }

    crate::settings! {
        backend = "test";
        /// Test settings.
        pub struct TestConfig;
        /// Test keys.
        pub enum TestKey;
        builder = TestBuilder;
        {
            /// The server
            /// address.
            Url url: String, required("e.g. https://x"), env("T_ADDR", "T_URL"), setter(with_url);
            /// A folder.
            Folder folder: PathBuf;
            /// Per page.
            PageSize page_size: i32 = 100, range(1, 100), setter(with_page_size);
            /// Tries.
            Attempts attempts: u32 = 3u32, min(1);
            /// A switch.
            Purge purge: bool = true;
            /// A mount.
            Mount mount: String = "secret";
        }
    }

    #[test]
    fn specs_carry_every_declared_fact() {
        let url = TestKey::Url.spec();
        assert_eq!(url.name, "url");
        assert_eq!(url.required, Some("e.g. https://x"));
        assert_eq!(url.missing_message(), "set url (or T_ADDR), e.g. https://x");
        let err = TestConfig::default().check_required().unwrap_err();
        assert!(
            err.to_string()
                .contains("set url (or T_ADDR), e.g. https://x"),
            "{err}"
        );
        assert_eq!(url.env, ["T_ADDR", "T_URL"]);
        assert_eq!(url.doc_line(), "The server address.");
        assert_eq!(url.default_text(), None);
        let page = TestKey::PageSize.spec();
        assert_eq!(page.required, None);
        assert_eq!(page.kind, SettingKind::Integer);
        assert_eq!((page.min, page.max), (Some(1), Some(100)));
        assert_eq!(page.default_text().as_deref(), Some("100"));
        assert_eq!(TestKey::Folder.spec().kind, SettingKind::Path);
        assert_eq!(
            TestKey::Purge.spec().default_text().as_deref(),
            Some("true")
        );
        assert_eq!(
            TestKey::Mount.spec().default_text().as_deref(),
            Some("secret")
        );
        assert_eq!(TestKey::Attempts.spec().min, Some(1));
    }

    #[test]
    fn text_is_parsed_and_checked_with_one_set_of_messages() {
        let err = "pag".parse::<TestKey>().unwrap_err().to_string();
        assert!(
            err.contains(
                "unknown setting \"pag\"; known settings are url, folder, page_size, attempts, purge, mount"
            ),
            "{err}"
        );
        let mut config = TestConfig::default();
        let err = config.set(TestKey::PageSize, "many").unwrap_err();
        assert!(
            err.to_string()
                .contains("page_size must be a whole number, not \"many\""),
            "{err}"
        );
        let err = config.set(TestKey::Purge, "yes").unwrap_err();
        assert!(
            err.to_string()
                .contains("purge must be true or false, not \"yes\"")
        );
        config.set(TestKey::PageSize, "0").unwrap();
        let err = config.check_bounds().unwrap_err().to_string();
        assert!(
            err.contains("page_size must be between 1 and 100, not 0"),
            "{err}"
        );
        config.set(TestKey::PageSize, "7").unwrap();
        config.set(TestKey::Attempts, "0").unwrap();
        let err = config.check_bounds().unwrap_err().to_string();
        assert!(err.contains("attempts must be at least 1"), "{err}");
        config.set(TestKey::Attempts, "2").unwrap();
        config.check_bounds().unwrap();
        assert_eq!((config.page_size(), config.attempts()), (7, 2));
        assert_eq!(TestConfig::default().mount(), "secret");
    }

    #[test]
    fn environment_fallbacks_and_builder_methods() {
        let env = |var: &str| match var {
            "T_ADDR" => Some(String::new()),
            "T_URL" => Some("https://b".to_owned()),
            _ => None,
        };
        let config = TestConfig::from_lookup(&env);
        assert_eq!(
            config.url.as_deref(),
            Some("https://b"),
            "empty counts as unset"
        );
        let builder = TestBuilder::default()
            .with_url("https://a")
            .with_page_size(5)
            .with_settings(
                [("folder", "data"), ("attempts", "4")],
                std::path::Path::new("/project"),
            )
            .unwrap();
        assert_eq!(builder.config.url.as_deref(), Some("https://a"));
        assert_eq!(builder.config.page_size, Some(5));
        assert_eq!(
            builder.config.folder.as_deref(),
            Some(std::path::Path::new("/project/data"))
        );
        assert_eq!(builder.config.attempts, Some(4));
        let err = TestBuilder::default()
            .with_settings([("nope", "1")], std::path::Path::new("/"))
            .unwrap_err();
        assert!(err.to_string().contains("unknown setting \"nope\""));
    }
}
