//! The in-app path a person returns to after signing in. It travels through
//! sessionStorage and is then used for navigation, so only a same-origin
//! path is accepted: never an outside URL (open-redirect defence).

/// Maximum length kept; longer paths fall back to `/`.
const MAX_LEN: usize = 2048;

/// Returns `candidate` if it is a plain in-app path (`/…`, not `//…`, no
/// backslash, no control characters, not the callback route), else `/`.
pub fn sanitize_return_path(candidate: &str, callback_path: &str) -> String {
    let path_only = candidate.split(['?', '#']).next().unwrap_or_default();
    let acceptable = candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate.contains('\\')
        && candidate.len() <= MAX_LEN
        && !candidate.chars().any(char::is_control)
        && path_only != callback_path;
    if acceptable {
        candidate.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_in_app_paths() {
        assert_eq!(
            sanitize_return_path("/profile?tab=1#x", "/callback"),
            "/profile?tab=1#x"
        );
        assert_eq!(sanitize_return_path("/", "/callback"), "/");
    }

    #[test]
    fn refuses_anything_that_leaves_the_app() {
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "profile",
            "/a\nb",
            "/callback?code=x",
            "",
        ] {
            assert_eq!(sanitize_return_path(bad, "/callback"), "/", "{bad:?}");
        }
        assert_eq!(
            sanitize_return_path(&format!("/{}", "a".repeat(3000)), "/callback"),
            "/"
        );
    }
}
