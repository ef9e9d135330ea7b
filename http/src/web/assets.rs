//! The stylesheet and the icon, compiled into the binary and served under names that carry
//! a hash of their content, so that browsers may keep them for a year and a new build's
//! pages still ask for the new files.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// One embedded file.
struct Asset {
    /// The name with its content hash, such as `app.1f2e3d4c5b6a7988.css`.
    name: String,
    content_type: &'static str,
    bytes: &'static [u8],
}

const CSS: &[u8] = include_bytes!("../../assets/app.css");
const ICON: &[u8] = include_bytes!("../../assets/favicon.svg");

/// FNV-1a over the bytes: stable across builds and platforms, which is all a cache-busting
/// name needs (it is no defence against anyone choosing the content).
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

fn asset(stem: &str, extension: &str, content_type: &'static str, bytes: &'static [u8]) -> Asset {
    let name = format!("{stem}.{:016x}.{extension}", fnv1a(bytes));
    Asset { name, content_type, bytes }
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        asset("app", "css", "text/css; charset=utf-8", CSS),
        asset("favicon", "svg", "image/svg+xml", ICON),
    ]
});

/// The path of the stylesheet, for the pages' `<link>`.
pub fn stylesheet() -> String {
    format!("/assets/{}", ASSETS[0].name)
}

/// The path of the icon.
pub fn icon() -> String {
    format!("/assets/{}", ASSETS[1].name)
}

/// How long browsers and proxies may keep an asset: its name changes with its content.
const FOREVER: &str = "public, max-age=31536000, immutable";

/// `GET /assets/{file}`: an embedded file by its hashed name.
pub async fn asset_file(Path(file): Path<String>) -> Response {
    let Some(found) = ASSETS.iter().find(|asset| asset.name == file) else {
        return ApiError::NotFound(format!("there is no asset {file:?}")).into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(found.content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(FOREVER)),
        ],
        found.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_carry_a_hash_of_their_content() {
        let css = stylesheet();

        assert!(css.starts_with("/assets/app.") && css.ends_with(".css"), "{css}");
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(css, stylesheet(), "the name is stable");
    }
}
