//! What every page shares: the layout around it (title, navigation, stylesheet) and the
//! step from a filled template to a response.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::assets;
use super::error::Rendered;
use crate::error::{ApiError, ApiResult};

/// Which part of the dashboard a page belongs to, for the navigation's current link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Projects, analyses and issues.
    Projects,
    /// The admin pages.
    Admin,
    /// Neither (an error page).
    Other,
}

/// The signed-in person as the navigation shows them.
#[derive(Debug, Clone)]
pub struct Nav {
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Whether the admin link shows.
    pub admin: bool,
    /// The session's CSRF token, for the logout form.
    pub csrf_token: String,
    /// The current section.
    pub section: Section,
}

impl Nav {
    /// True when the page is in the projects section.
    pub fn in_projects(&self) -> bool {
        self.section == Section::Projects
    }

    /// True when the page is in the admin section.
    pub fn in_admin(&self) -> bool {
        self.section == Section::Admin
    }
}

/// The frame of a page.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The document title (the site name is added).
    pub title: String,
    /// The navigation, for a signed-in person.
    pub nav: Option<Nav>,
    /// Path of the stylesheet.
    pub stylesheet: String,
    /// Path of the icon.
    pub icon: String,
}

impl Layout {
    /// The frame of a page titled `title`.
    pub fn new(title: impl Into<String>, nav: Option<Nav>) -> Layout {
        Layout { title: title.into(), nav, stylesheet: assets::stylesheet(), icon: assets::icon() }
    }
}

/// A link with its words.
#[derive(Debug, Clone)]
pub struct Link {
    /// Where it leads.
    pub href: String,
    /// What it says.
    pub label: String,
}

/// The page as a 200 response.
pub fn render<T: Template>(page: &T) -> ApiResult<Response> {
    let html = page.render().map_err(|e| ApiError::Internal(format!("page template: {e}")))?;
    let content_type = HeaderValue::from_static("text/html; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, content_type)], html).into_response())
}

/// The page as a response with `status`; an error status keeps this page rather than the
/// generic error page.
pub fn render_status<T: Template>(status: StatusCode, page: &T) -> ApiResult<Response> {
    let mut response = render(page)?;
    *response.status_mut() = status;
    response.extensions_mut().insert(Rendered);
    Ok(response)
}
