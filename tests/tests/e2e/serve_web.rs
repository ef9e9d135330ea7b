//! The web dashboard over HTTP: signing in and out through the pages, the project page
//! against the API's analysis, drill-down lists, the admin pages, and the safety rules
//! every page keeps (escaping, CSRF tokens, the content security policy, HTML errors).
//!
//! The pages are read as text: a test looks for the stable `data-testid` hooks and
//! attributes the browser tests use too.

use bugdash::model::Issue;
use bugdash::Timestamp;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::serve_app::{test_settings, Service, Session, ADMIN, PASSWORD, USER};
use crate::stores::{both_backends, TestStore};

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

async fn page(service: &Service, session: Option<&Session>, path: &str) -> Response {
    let mut request = browser().get(service.url(path));
    if let Some(session) = session {
        request = request.headers(session.cookie_only());
    }
    request.send().await.expect("page answered")
}

async fn text(service: &Service, session: &Session, path: &str) -> String {
    let response = page(service, Some(session), path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.expect("a body")
}

fn location(response: &Response) -> String {
    let value = response.headers().get("location").expect("a Location header");
    value.to_str().expect("ascii").to_owned()
}

async fn post_form(
    service: &Service,
    session: Option<&Session>,
    path: &str,
    fields: &[(&str, &str)],
) -> Response {
    let mut request = browser().post(service.url(path)).form(fields);
    if let Some(session) = session {
        request = request.headers(session.cookie_only());
    }
    request.send().await.expect("form answered")
}

/// The values of `attribute` in document order, unescaped.
fn attribute_values(html: &str, attribute: &str) -> Vec<String> {
    let marker = format!("{attribute}=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            unescape(&rest[..rest.find('"').expect("a closing quote")])
        })
        .collect()
}

/// Text of an attribute value as the templates escape it (numeric references).
fn unescape(text: &str) -> String {
    text.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
}

/// The area names of the API's analysis for `query`, riskiest first.
async fn api_areas(service: &Service, session: &Session, query: &str) -> Vec<String> {
    let path = format!("/api/projects/ZOOKEEPER/analysis?{query}");
    let report: Value = service.get(session, &path).await.json().await.expect("JSON");
    let areas = report["areas"].as_array().expect("areas");
    areas.iter().map(|area| area["name"].as_str().expect("a name").to_owned()).collect()
}

/// The text of the table row of `area` on the project page.
fn area_row<'a>(html: &'a str, area: &str) -> &'a str {
    let start = html.find(&format!("data-area=\"{area}\"")).expect("the area's row");
    let end = html[start..].find("</tr>").expect("the row's end");
    &html[start..start + end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_pages_send_to_login_with_the_page_to_come_back_to() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;

    let root = page(&service, None, "/").await;
    let project = page(&service, None, "/projects/ZOOKEEPER?window=all").await;
    let admin = page(&service, None, "/admin/users").await;
    let login = page(&service, None, "/login").await;

    assert_eq!(root.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&root), "/login");
    assert_eq!(project.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&project), "/login?next=%2Fprojects%2FZOOKEEPER%3Fwindow%3Dall");
    assert_eq!(location(&admin), "/login?next=%2Fadmin%2Fusers");
    assert_eq!(login.status(), 200);
    let form = login.text().await.unwrap();
    assert!(form.contains("id=\"login-form\"") && form.contains("name=\"password\""), "{form}");
}

async fn the_login_form_signs_in_and_goes_to_the_page_asked_for(store: TestStore) {
    let service = Service::start(store, test_settings()).await;
    let fields = [("email", USER), ("password", PASSWORD), ("next", "/projects/ZOOKEEPER")];

    let signed_in = post_form(&service, None, "/login", &fields).await;
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session =
        Session { cookie: cookie.split(';').next().unwrap().to_owned(), csrf: String::new() };
    let root = page(&service, Some(&session), "/").await;
    let login_again = page(&service, Some(&session), "/login?next=/admin").await;
    let projects = text(&service, &session, "/projects").await;

    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/projects/ZOOKEEPER");
    assert!(cookie.starts_with("bugdash_session=") && cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(location(&root), "/projects");
    assert_eq!(location(&login_again), "/admin");
    assert!(projects.contains("data-testid=\"projects-table\""));
    assert!(projects.contains("data-project=\"ZOOKEEPER\""));
    assert!(projects.contains("href=\"/projects/ZOOKEEPER\""));
    assert!(
        projects.contains("data-testid=\"nav\"") && projects.contains("data-testid=\"logout\"")
    );
    assert!(!projects.contains("data-testid=\"nav-admin\""), "a user sees no admin link");
}
both_backends!(the_login_form_signs_in_and_goes_to_the_page_asked_for);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_login_shows_the_form_again_with_the_same_words_for_every_cause() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;

    let wrong = [("email", USER), ("password", "not the password"), ("next", "/admin")];
    let wrong = post_form(&service, None, "/login", &wrong).await;
    let unknown = [("email", "nobody@example.com"), ("password", PASSWORD)];
    let unknown = post_form(&service, None, "/login", &unknown).await;

    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert_eq!(wrong.headers()["content-type"], "text/html; charset=utf-8");
    let wrong = wrong.text().await.unwrap();
    let unknown = unknown.text().await.unwrap();
    let message = |html: &str| {
        let start = html.find("data-testid=\"login-error\"").expect("the failure message");
        html[start..html[start..].find("</p>").unwrap() + start].to_owned()
    };
    assert!(message(&wrong).contains("The email or password is wrong."), "{wrong}");
    assert_eq!(message(&wrong), message(&unknown));
    assert!(wrong.contains("id=\"login-form\"") && wrong.contains("value=\"/admin\""));
    assert!(wrong.contains(&format!("value=\"{USER}\"")), "the email is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_never_redirects_off_the_site_nor_from_another_origin() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;

    let mut targets = Vec::new();
    for next in ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:x"] {
        let fields = [("email", USER), ("password", PASSWORD), ("next", next)];
        let response = post_form(&service, None, "/login", &fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        targets.push(location(&response));
    }
    let form = page(&service, None, "/login?next=//evil.example").await.text().await.unwrap();
    let cross = browser()
        .post(service.url("/login"))
        .header("origin", "http://evil.example")
        .form(&[("email", USER), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let own = browser()
        .post(service.url("/login"))
        .header("origin", service.base.clone())
        .form(&[("email", USER), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();

    assert!(targets.iter().all(|target| target == "/projects"), "{targets:?}");
    assert!(!form.contains("evil.example"), "the form does not carry the outside target");
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(cross.headers().get("set-cookie").is_none());
    assert!(cross.text().await.unwrap().contains("This form has expired"));
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
}

async fn the_risk_table_lists_the_riskiest_areas_in_the_apis_order(store: TestStore) {
    let service = Service::start(store, test_settings()).await;
    let session = service.login(USER).await;

    let html = text(&service, &session, "/projects/ZOOKEEPER?window=all").await;
    let from_api = api_areas(&service, &session, "window=all").await;
    let default_html = text(&service, &session, "/projects/ZOOKEEPER").await;
    let default_api = api_areas(&service, &session, "").await;

    let rows = attribute_values(&html, "data-area");
    assert!(rows.len() >= 10, "{rows:?}");
    assert_eq!(rows, from_api[..rows.len()]);
    assert_eq!(
        attribute_values(&default_html, "data-area"),
        default_api[..rows.len().min(default_api.len())]
    );
    for hook in ["risk-table", "chart-trend", "chart-backlog", "insights", "backtest", "filters"] {
        assert!(html.contains(&format!("data-testid=\"{hook}\"")), "{hook} missing");
    }
    assert!(
        html.contains("data-testid=\"export-areas-csv\" href=")
            || html.contains("export-areas-csv")
    );
    assert!(html.contains("/api/projects/ZOOKEEPER/areas.csv?window=all"));
    assert!(html.contains("data-testid=\"drill\""));
    let top = area_row(&html, &rows[0]);
    assert!(top.contains("class=\"level level-"), "{top}");
}
both_backends!(the_risk_table_lists_the_riskiest_areas_in_the_apis_order);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_changes_the_table_as_it_changes_the_analysis() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    let all = text(&service, &session, "/projects/ZOOKEEPER?window=all").await;
    let filtered_path = "/projects/ZOOKEEPER?window=all&priority=Blocker&area=fix-version";
    let filtered = text(&service, &session, filtered_path).await;
    let from_api =
        api_areas(&service, &session, "window=all&priority=Blocker&area=fix-version").await;
    let blank =
        page(&service, Some(&session), "/projects/ZOOKEEPER?window=all&priority=&period=").await;

    let rows = attribute_values(&filtered, "data-area");
    assert_ne!(rows, attribute_values(&all, "data-area"));
    assert_eq!(rows, from_api[..rows.len()]);
    assert!(filtered.contains("value=\"Blocker\""), "the form keeps the filter");
    assert!(filtered.contains("<option value=\"fix-version\" selected>"), "{filtered}");
    assert_eq!(blank.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&blank), "/projects/ZOOKEEPER?window=all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_areas_open_bugs_link_lists_exactly_its_open_bugs() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;
    let html = text(&service, &session, "/projects/ZOOKEEPER?window=all").await;
    let area = attribute_values(&html, "data-area").remove(0);
    let row = area_row(&html, &area);
    let links = attribute_values(row, "href");
    let counts: Vec<String> = row
        .split("data-testid=\"drill\"")
        .skip(1)
        .map(|part| {
            let start = part.find('>').unwrap() + 1;
            part[start..start + part[start..].find('<').unwrap()].to_owned()
        })
        .collect();

    let open_list = text(&service, &session, &links[1]).await;

    let open = &counts[1];
    assert!(links[1].contains("status_category=new%2Cindeterminate"), "{links:?}");
    assert!(open_list.contains("data-testid=\"issues-table\""));
    assert!(
        open_list.contains(&format!("<strong>{open}</strong> issues match")),
        "{open}: {open_list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_text_shows_as_text_on_the_issues_page() {
    let mut settings = test_settings();
    settings.jira.url = Some("https://issues.example.org/".to_owned());
    let service = Service::start(TestStore::sqlite().await, settings).await;
    let session = service.login(USER).await;
    let hostile = Issue {
        id: Some(990_002),
        key: "ZOOKEEPER-99002".into(),
        project: "ZOOKEEPER".into(),
        issue_type: "Bug".into(),
        status: "Open".into(),
        created: Some(Timestamp::from_millis(1_547_000_000_000)),
        updated: Some(Timestamp::from_millis(1_547_000_000_000)),
        summary: "<script>alert(1)</script>".into(),
        components: vec!["web \"escaping\" <b>".into()].into(),
        ..Issue::default()
    };
    service.store.store().upsert_issues(&[hostile]).await.unwrap();

    let path = "/projects/ZOOKEEPER/issues?component=web%20%22escaping%22%20%3Cb%3E";
    let html = text(&service, &session, path).await;
    let project = text(&service, &session, "/projects/ZOOKEEPER?window=all").await;

    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{html}");
    assert!(!html.contains("<script>alert(1)"));
    assert!(!html.contains("<b>") && !project.contains("<b>"), "the component is text too");
    assert!(html.contains("data-testid=\"issues-table\""));
    assert!(html.contains("href=\"https://issues.example.org/browse/ZOOKEEPER-99002\""));
    assert!(html.contains("data-testid=\"jira-link\""));
    assert!(html.contains("<strong>1</strong> issues match"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_forms_without_the_sessions_csrf_token_are_refused() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let user = service.login(USER).await;
    let admin = service.login(ADMIN).await;
    let me: Value = service.get(&user, "/api/auth/me").await.json().await.unwrap();
    let user_id = me["account"]["id"].as_i64().unwrap();
    let change = format!("/admin/users/{user_id}");

    let no_token = post_form(&service, Some(&user), "/logout", &[]).await;
    let wrong_token = post_form(&service, Some(&user), "/logout", &[("csrf_token", "00")]).await;
    let header_only = browser()
        .post(service.url("/logout"))
        .headers(user.for_writes())
        .header("origin", service.base.clone())
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    let disable = post_form(&service, Some(&admin), &change, &[("active", "false")]).await;
    let sync = post_form(&service, Some(&admin), "/admin/sync/ZOOKEEPER", &[]).await;
    let still_in = page(&service, Some(&user), "/projects").await;
    let logout = post_form(&service, Some(&user), "/logout", &[("csrf_token", &user.csrf)]).await;
    let after = page(&service, Some(&user), "/projects").await;

    for refused in [no_token, wrong_token, header_only, disable, sync] {
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let body = refused.text().await.unwrap();
        assert!(body.contains("data-testid=\"forbidden\""), "{body}");
        assert!(body.contains("This form has expired or did not come from BugDash"), "{body}");
        assert!(!body.contains("X-CSRF-Token"), "the API's words: {body}");
    }
    assert_eq!(still_in.status(), 200, "the refused forms changed nothing");
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&logout), "/login");
    assert!(logout.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "the session is over");
}

async fn admin_pages_are_for_admins_only(store: TestStore) {
    let service = Service::start(store, test_settings()).await;
    let user = service.login(USER).await;
    let admin = service.login(ADMIN).await;
    text(&service, &user, "/projects/ZOOKEEPER").await;

    let mut refusals = Vec::new();
    for path in ["/admin", "/admin/users", "/admin/sync"] {
        let response = page(&service, Some(&user), path).await;
        refusals.push((response.status(), response.text().await.unwrap()));
    }
    let usage = text(&service, &admin, "/admin?days=7").await;
    let users = text(&service, &admin, "/admin/users").await;
    let sync = text(&service, &admin, "/admin/sync").await;
    let projects = text(&service, &admin, "/projects").await;

    for (status, body) in &refusals {
        assert_eq!(*status, StatusCode::FORBIDDEN);
        assert!(body.contains("data-testid=\"forbidden\"") && body.contains("data-testid=\"nav\""));
    }
    assert!(usage.contains("data-testid=\"usage-chart\""));
    assert!(users.contains("data-testid=\"users-table\"") && users.contains(USER));
    assert!(
        sync.contains("data-testid=\"sync-table\"") && sync.contains("data-testid=\"sync-form\"")
    );
    assert!(sync.contains("data-project=\"ZOOKEEPER\""));
    assert!(projects.contains("data-testid=\"nav-admin\""));
}
both_backends!(admin_pages_are_for_admins_only);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_forms_change_accounts_and_start_syncs_then_come_back() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let admin = service.login(ADMIN).await;
    let user = service.login(USER).await;
    let me: Value = service.get(&user, "/api/auth/me").await.json().await.unwrap();
    let user_id = me["account"]["id"].as_i64().unwrap();
    let token = admin.csrf.as_str();

    let change = format!("/admin/users/{user_id}");
    let disabled =
        post_form(&service, Some(&admin), &change, &[("csrf_token", token), ("active", "false")])
            .await;
    let user_after = page(&service, Some(&user), "/projects").await;
    let bad_role =
        post_form(&service, Some(&admin), &change, &[("csrf_token", token), ("role", "boss")])
            .await;
    let audit: Value = service.get(&admin, "/api/admin/audit").await.json().await.unwrap();
    let sync =
        post_form(&service, Some(&admin), "/admin/sync/ZOOKEEPER", &[("csrf_token", token)]).await;
    let sync_page = text(&service, &admin, &location(&sync)).await;

    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&disabled), format!("/admin/users?changed={user_id}"));
    assert_eq!(user_after.status(), StatusCode::SEE_OTHER, "disabling ends the sessions");
    assert_eq!(bad_role.status(), StatusCode::BAD_REQUEST);
    assert!(bad_role.text().await.unwrap().contains("role"));
    assert_eq!(audit["entries"][0]["action"], "set_active");
    assert_eq!(sync.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&sync), "/admin/sync?refused=ZOOKEEPER&reason=not_configured");
    assert!(sync_page.contains("JIRA is not configured on this service"), "{sync_page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_projects_and_bad_filters_get_html_error_pages_that_say_why() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    let unknown = page(&service, Some(&session), "/projects/NOPE").await;
    let bad_window = page(&service, Some(&session), "/projects/ZOOKEEPER?window=forever").await;
    let bad_name = page(&service, Some(&session), "/projects/ZOOKEEPER/issues?colour=red").await;
    let bad_key = page(&service, Some(&session), "/projects/a%20b").await;

    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.headers()["content-type"], "text/html; charset=utf-8");
    let unknown = unknown.text().await.unwrap();
    assert!(unknown.contains("NOPE") && unknown.contains("data-testid=\"nav\""), "{unknown}");
    assert_eq!(bad_window.status(), StatusCode::BAD_REQUEST);
    let bad_window = bad_window.text().await.unwrap();
    assert!(
        bad_window.contains("invalid window") && bad_window.contains("forever"),
        "{bad_window}"
    );
    assert!(bad_window.contains("href=\"/projects/ZOOKEEPER\""), "a way back without the options");
    assert_eq!(bad_name.status(), StatusCode::BAD_REQUEST);
    assert!(bad_name.text().await.unwrap().contains("colour"));
    assert_eq!(bad_key.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_has_the_policy_and_no_inline_script_or_style() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let admin = service.login(ADMIN).await;
    let user = service.login(USER).await;
    let pages = [
        (None, "/login"),
        (Some(&admin), "/projects"),
        (Some(&admin), "/projects/ZOOKEEPER"),
        (Some(&admin), "/projects/ZOOKEEPER?window=all&period=month"),
        (Some(&admin), "/projects/ALL?area=project"),
        (Some(&admin), "/projects/ZOOKEEPER/issues?component=server&page=2"),
        (Some(&admin), "/admin"),
        (Some(&admin), "/admin/users"),
        (Some(&admin), "/admin/sync"),
        (Some(&admin), "/projects/NOPE"),
        (Some(&user), "/admin"),
    ];

    for (session, path) in pages {
        let response = page(&service, session, path).await;
        let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        let html = response.text().await.unwrap();
        assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"));
        assert!(html.starts_with("<!doctype html>"), "{path}");
        assert!(!html.contains("<script"), "{path} has a script element");
        assert!(!html.contains(" style=") && !html.contains("<style"), "{path} has inline style");
        for handler in ["onclick=", "onload=", "onerror=", "onsubmit=", "javascript:"] {
            assert!(!html.contains(handler), "{path} has {handler}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_project_page_weighs_under_300_kb_and_its_assets_are_cached() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    let mut largest = 0;
    for query in ["", "?window=all", "?window=all&period=month", "?window=all&area=label"] {
        let html = text(&service, &session, &format!("/projects/ZOOKEEPER{query}")).await;
        largest = largest.max(html.len());
    }
    let html = text(&service, &session, "/projects/ZOOKEEPER").await;
    let stylesheet = attribute_values(&html, "href")
        .into_iter()
        .find(|href| href.starts_with("/assets/app.") && href.ends_with(".css"))
        .expect("a stylesheet link");
    let css = page(&service, None, &stylesheet).await;
    let missing = page(&service, None, "/assets/app.0000.css").await;

    assert!(largest < 300 * 1024, "{largest} bytes");
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issue_list_pages_through_with_its_filters() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    let first = text(&service, &session, "/projects/ZOOKEEPER/issues?component=server").await;
    let second =
        text(&service, &session, "/projects/ZOOKEEPER/issues?component=server&page=2").await;
    let api: Value = service
        .get(&session, "/api/projects/ZOOKEEPER/issues?component=server&limit=50&offset=50")
        .await
        .json()
        .await
        .unwrap();

    let keys = |html: &str| attribute_values(html, "data-issue");
    assert_eq!(keys(&first).len(), 50);
    let expected: Vec<String> = api["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|issue| issue["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys(&second), expected);
    assert!(first.contains("href=\"/projects/ZOOKEEPER/issues?component=server&#38;page=2\""));
    assert!(second.contains("rel=\"prev\""));
    assert!(first.contains("<span class=\"name\">component</span> server"));
}

/// The address a link with the words `words` leads to, unescaped.
fn href_of(html: &str, words: &str) -> String {
    let end = html.find(&format!(">{words}</a>")).unwrap_or_else(|| panic!("{words}: {html}"));
    let start = html[..end].rfind("href=\"").expect("an href") + "href=\"".len();
    unescape(&html[start..start + html[start..].find('"').unwrap()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_way_back_from_a_drill_down_returns_to_the_analysis_it_came_from() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    for analysis in [
        "/projects/ZOOKEEPER",
        "/projects/ZOOKEEPER?window=30",
        "/projects/ZOOKEEPER?window=all&component=server&status_category=new",
    ] {
        let html = text(&service, &session, analysis).await;
        // The first drill-down link: the open bugs of the headline numbers.
        let open = attribute_values(&html, "href")
            .into_iter()
            .find(|href| href.contains("/issues?"))
            .expect("a drill-down link");
        let list = text(&service, &session, &open).await;

        assert_eq!(href_of(&list, "Back to the analysis"), analysis, "from {open}");
        assert_eq!(href_of(&list, "Analysis"), analysis, "the breadcrumb, from {open}");
    }
    let all = text(&service, &session, "/projects/ZOOKEEPER?window=all").await;
    let created = attribute_values(&all, "href")
        .into_iter()
        .find(|href| href.contains("/issues?") && href.contains("since="))
        .expect("a link to the bugs created in the window");
    let first = text(&service, &session, &created).await;
    let second = text(&service, &session, &href_of(&first, "Older →")).await;
    assert_eq!(href_of(&second, "Back to the analysis"), "/projects/ZOOKEEPER?window=all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_way_back_to_anywhere_but_an_analysis_is_refused() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    for back in ["%2F%2Fevil.example%2Fprojects%2FX", "https%3A%2F%2Fevil.example", "%2Fadmin"] {
        let path = format!("/projects/ZOOKEEPER/issues?type=Bug&back={back}");
        let response = page(&service, Some(&session), &path).await;

        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{back}");
        let html = response.text().await.unwrap();
        assert!(html.contains("back") && !html.contains("href=\"//evil"), "{html}");
        assert!(!html.contains("href=\"https://evil") && !html.contains("href=\"/admin\""));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_area_without_a_value_is_named_after_the_area_field_not_none() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    let html = text(&service, &session, "/projects/ZOOKEEPER?window=all").await;
    let labels = text(&service, &session, "/projects/ZOOKEEPER?window=all&area=label").await;
    let projects = text(&service, &session, "/projects").await;

    let headline = &html[html.find("data-testid=\"headline\"").unwrap()..];
    let headline = &headline[..headline.find("</p>").unwrap()];
    assert!(headline.contains("(no component) (high"), "{headline}");
    assert!(!headline.contains("none"), "{headline}");
    let row = area_row(&html, "none");
    assert!(row.contains("(no component)"), "{row}");
    assert!(row.contains("component=none"), "its links still select it: {row}");
    assert!(area_row(&labels, "none").contains("(no label)"));
    let zookeeper = &projects[projects.find("data-project=\"ZOOKEEPER\"").unwrap()..];
    let zookeeper = &zookeeper[..zookeeper.find("</tr>").unwrap()];
    assert!(zookeeper.contains("(no component)"), "{zookeeper}");
    assert!(!zookeeper.contains(", none") && !zookeeper.contains(">none,"), "{zookeeper}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_placeholders_read_as_examples_not_as_values() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    let html = text(&service, &session, "/projects/ZOOKEEPER").await;

    let placeholders = attribute_values(&html, "placeholder");
    let bare: Vec<&String> = placeholders
        .iter()
        .filter(|p| !p.is_empty() && !p.starts_with("e.g. ") && !p.starts_with("default "))
        .collect();
    assert!(bare.is_empty(), "placeholders that look like values: {bare:?}");
    assert!(placeholders.contains(&"e.g. server".to_owned()), "{placeholders:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_page_paths_get_the_html_404_and_api_paths_the_json_one() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    for path in ["/nope", "/projects/ZOOKEEPER/nope", "/admin/nope"] {
        let signed_in = page(&service, Some(&session), path).await;
        let signed_out = page(&service, None, path).await;

        assert_eq!(signed_in.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(signed_in.headers()["content-type"], "text/html; charset=utf-8", "{path}");
        let html = signed_in.text().await.unwrap();
        assert!(html.contains("Not found") && html.contains("data-testid=\"nav\""), "{html}");
        assert_eq!(signed_out.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(signed_out.headers()["content-type"], "text/html; charset=utf-8");
    }
    for path in ["/api/nope", "/api/projects/ZOOKEEPER/nope", "/healthz/nope"] {
        let response = page(&service, Some(&session), path).await;

        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json", "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_keys_in_other_spellings_redirect_and_unreadable_ones_are_named() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    let lower = page(&service, Some(&session), "/projects/zookeeper?window=30").await;
    let list = page(&service, Some(&session), "/projects/zookeeper/issues?type=Bug").await;
    let unreadable = page(&service, Some(&session), "/projects/%ff").await;

    assert_eq!(lower.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(location(&lower), "/projects/ZOOKEEPER?window=30");
    assert_eq!(list.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(location(&list), "/projects/ZOOKEEPER/issues?type=Bug");
    assert_eq!(unreadable.status(), StatusCode::BAD_REQUEST);
    let html = unreadable.text().await.unwrap();
    assert!(html.contains("project key") && !html.contains("Invalid URL"), "{html}");
}

/// The 90 days to 2019-01-11 start on Saturday 2018-10-13: the chart's first week starts
/// on Monday 2018-10-08 and counts all of it, which the caption says. The whole history
/// starts with the first bug, on Monday 2008-06-09: nothing to say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trend_caption_says_when_the_first_period_starts_before_the_window() {
    let service = Service::start(TestStore::sqlite().await, test_settings()).await;
    let session = service.login(USER).await;

    let default = text(&service, &session, "/projects/ZOOKEEPER").await;
    let from_monday = text(&service, &session, "/projects/ZOOKEEPER?window=all").await;

    let note = "The first week starts on 2018-10-08, before the window, and is counted whole.";
    assert!(default.contains(note), "{default}");
    assert!(!from_monday.contains("before the window"), "{from_monday}");
}
