//! Account API messages, shared by the server and the browser.

use crate::actor::Role;
use crate::ids::{UnitId, UserId};
use serde::{Deserialize, Serialize};

/// `POST /api/auth/login`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// The signed-in user (`GET /api/auth/me`, and the login response).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// Id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Unit.
    pub unit: UnitId,
    /// Role.
    pub role: Role,
    /// Must set a new password before doing anything else.
    pub must_change_password: bool,
    /// The language this user chose last, on any device (None: never chose; Chinese).
    #[serde(default)]
    pub language: Option<Language>,
    /// The largest evidence file the server takes (`--max-upload-mb`), so the browser refuses
    /// a larger one before sending it and says the right limit (None: `DEFAULT_MAX_BYTES`).
    #[serde(default)]
    pub max_upload_bytes: Option<u64>,
}

/// A language of the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// 中文, the default.
    Zh,
    /// English.
    En,
}

impl Language {
    /// The stored and wire form: `zh`, `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }

    /// Reads [`Language::as_str`]'s form.
    pub fn parse(s: &str) -> Option<Language> {
        match s {
            "zh" => Some(Language::Zh),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// `POST /api/auth/language`: the signed-in user's choice, remembered for all their devices.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetLanguageRequest {
    /// The language chosen.
    pub language: Language,
}

/// `POST /api/auth/logout`
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogoutRequest {
    /// End every session of this user, not just this one.
    #[serde(default)]
    pub everywhere: bool,
}

/// `POST /api/auth/password`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    /// Current password.
    pub old_password: String,
    /// New password.
    pub new_password: String,
}

/// A demo account listed on the login page (demo mode only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoAccount {
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Password (the same for every demo account).
    pub password: String,
}

/// A user as listed on the office's account screen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    /// Id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Unit.
    pub unit: UnitId,
    /// The unit's name, for lists (empty when the unit is gone).
    #[serde(default)]
    pub unit_name: String,
    /// Role.
    pub role: Role,
    /// Disabled.
    pub disabled: bool,
    /// Must change password at next login.
    pub must_change_password: bool,
    /// Where notifications are mailed (None: not mailed).
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /api/users`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateUserRequest {
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Unit.
    pub unit: UnitId,
    /// Role.
    pub role: Role,
    /// Initial password; the user must change it at first login.
    pub password: String,
}

/// `POST /api/users/{id}/email`: the office sets (or, with `null` or "", clears) where a
/// user's notifications are mailed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetEmailRequest {
    /// The address.
    pub email: Option<String>,
}

/// `POST /api/users/{id}/role`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetRoleRequest {
    /// New role.
    pub role: Role,
    /// New unit.
    pub unit: UnitId,
}

/// `POST /api/users/{id}/password`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetPasswordRequest {
    /// Temporary password; the user must change it at next login.
    pub password: String,
}

/// The longest username, in characters.
pub const USERNAME_MAX: usize = 64;
/// The longest display name (a person's or a unit's), in characters.
pub const DISPLAY_NAME_MAX: usize = 64;

/// A username is 2–[`USERNAME_MAX`] characters of letters, digits, `.`, `_` or `-`.
pub fn valid_username(name: &str) -> bool {
    (2..=USERNAME_MAX).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
}
