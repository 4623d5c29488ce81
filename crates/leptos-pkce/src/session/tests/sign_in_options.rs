//! What the app reads of the person (its own claims, userinfo) and asks
//! of a sign-in (options, a step-up).

use super::*;

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Roles {
    roles: Vec<String>,
}

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Groups {
    groups: Vec<String>,
}

// The same engine path natively and, in the wasm test run, in the browser.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_app_reads_its_own_claims_once_they_are_verified() {
    let world = World::new();
    let (_, signed_out_page) = signed_out(&world);
    assert!(
        signed_out_page.claims::<Roles>().is_none(),
        "nobody signed in"
    );
    let (_, session) = signed_in(&world);
    let roles = session.claims::<Roles>().expect("signed in").expect("fits");
    assert_eq!(roles.roles, ["reader", "editor"]);
    let groups = session.userinfo::<Groups>().expect("userinfo came");
    assert_eq!(groups.expect("fits").groups, ["staff"]);
    let misfit = session.claims::<Groups>().expect("signed in");
    assert_eq!(
        misfit.map_err(|e| e.code().to_owned()),
        Err("claims_mismatch".into())
    );
    let (_, joined) = load_in_tab(&world, 1, "/", SessionOptions::default());
    assert_eq!(joined.claims::<Roles>().and_then(Result::ok), Some(roles));
}

#[test]
fn a_step_up_keeps_the_session_and_must_bring_back_the_same_person() {
    let world = World::new();
    let (page, session) = signed_in(&world);
    let (_, other_tab) = load_in_tab(&world, 1, "/", SessionOptions::default());
    let before = access_token(&other_tab);
    let step_up = crate::protocol::SignInOptions::default()
        .return_to("/payments")
        .prompt(crate::protocol::Prompt::Login)
        .login_hint("alice");
    block_on(session.sign_in_with(step_up)).expect("on its way");
    assert!(
        session.status().is_signed_in(),
        "kept while the provider asks"
    );
    let (url, _) = page.last_navigation().expect("to the provider");
    let params = query_of(&url);
    assert_eq!(params.get("prompt").map(String::as_str), Some("login"));
    assert_eq!(params.get("login_hint").map(String::as_str), Some("alice"));
    world.provider.borrow_mut().person = Some("bob".into());
    let (_, callback) = follow_to_callback(&world, &page);
    assert_eq!(
        callback.status(),
        AuthStatus::Error(AuthError::InvalidIdToken(
            crate::protocol::IdTokenCheck::StepUpSubject
        ))
    );
    assert_eq!(
        access_token(&other_tab),
        before,
        "the other tab keeps alice's session"
    );
    assert!(matches!(other_tab.status(), AuthStatus::SignedIn(ref p) if p.sub == "alice"));
}
