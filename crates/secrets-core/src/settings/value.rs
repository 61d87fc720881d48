//! The types a setting can have: how each is read from text, shown as
//! text, given to a builder setter and read from the environment.

use std::path::PathBuf;

use super::SettingKind;

/// A type a setting can have: how it is read from text and shown as text.
pub trait SettingValue: Sized {
    /// The kind the catalogue names.
    const KIND: SettingKind;

    /// Parses `text`, the value of setting `name`; the error says what the
    /// setting takes.
    fn parse_setting(name: &str, text: &str) -> Result<Self, String>;

    /// The value as text (for defaults and messages).
    fn to_setting_text(&self) -> String;

    /// The value as a whole number, for bound checks.
    fn as_whole_number(&self) -> Option<i64> {
        None
    }
}

/// A setting type whose text form never fails to parse, so it may fall back
/// to an environment variable without an error path (text and paths).
pub trait FromEnvText {
    /// The value of an environment variable as this type.
    fn from_env_text(text: String) -> Self;
}

/// What a typed builder setter accepts for a setting of type `T`: anything
/// that becomes text or a path, and exactly `T` for numbers and switches
/// (so that `with_page_size(20)` infers its literal's type).
pub trait IntoSetting<T> {
    /// The value.
    fn into_setting(self) -> T;
}

impl<S: Into<String>> IntoSetting<String> for S {
    fn into_setting(self) -> String {
        self.into()
    }
}

impl<S: Into<PathBuf>> IntoSetting<PathBuf> for S {
    fn into_setting(self) -> PathBuf {
        self.into()
    }
}

macro_rules! exactly_itself {
    ($($t:ty),*) => {$(
        impl IntoSetting<$t> for $t {
            fn into_setting(self) -> $t {
                self
            }
        }
    )*};
}

exactly_itself!(bool, u8, u16, u32, u64, i32, i64);

impl SettingValue for String {
    const KIND: SettingKind = SettingKind::Text;

    fn parse_setting(_: &str, text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }

    fn to_setting_text(&self) -> String {
        self.clone()
    }
}

impl FromEnvText for String {
    fn from_env_text(text: String) -> Self {
        text
    }
}

impl SettingValue for PathBuf {
    const KIND: SettingKind = SettingKind::Path;

    fn parse_setting(_: &str, text: &str) -> Result<Self, String> {
        Ok(PathBuf::from(text))
    }

    fn to_setting_text(&self) -> String {
        self.display().to_string()
    }
}

impl FromEnvText for PathBuf {
    fn from_env_text(text: String) -> Self {
        PathBuf::from(text)
    }
}

impl SettingValue for bool {
    const KIND: SettingKind = SettingKind::Boolean;

    fn parse_setting(name: &str, text: &str) -> Result<Self, String> {
        match text {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{name} must be true or false, not {text:?}")),
        }
    }

    fn to_setting_text(&self) -> String {
        self.to_string()
    }
}

macro_rules! whole_numbers {
    ($($t:ty),*) => {$(
        impl SettingValue for $t {
            const KIND: SettingKind = SettingKind::Integer;

            fn parse_setting(name: &str, text: &str) -> Result<Self, String> {
                text.parse()
                    .map_err(|_| format!("{name} must be a whole number, not {text:?}"))
            }

            fn to_setting_text(&self) -> String {
                self.to_string()
            }

            fn as_whole_number(&self) -> Option<i64> {
                i64::try_from(*self).ok()
            }
        }
    )*};
}

whole_numbers!(u8, u16, u32, u64, i32, i64);
