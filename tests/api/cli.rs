//! `newsroom user …`: the real binary against a test database, checked by
//! signing in over HTTP with what it made.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::Method;
use serde_json::json;

use crate::admin::send;
use crate::harness::{TestApp, url};

struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn newsroom(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsroom"))
        .args(args)
        .env("DATABASE_URL", url(&app.database))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Output {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> (u16, serde_json::Value) {
    let r = send(
        app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
        &[],
    )
    .await;
    (r.status.as_u16(), r.json)
}

#[actix_web::test]
async fn user_commands_create_list_change_and_disable_accounts() {
    let app = TestApp::spawn().await;
    let password = "mật khẩu của biên tập viên";

    // The password from standard input.
    let out = newsroom(
        &app,
        &[
            "user",
            "create",
            "--email",
            "Bien.Tap@Newsroom.test",
            "--role",
            "editor",
        ],
        &format!("{password}\n"),
    );
    assert!(out.ok, "{}", out.stderr);
    assert!(out.stdout.contains("bien.tap@newsroom.test (editor)"));
    assert!(!out.stdout.contains(password) && !out.stdout.contains("generated"));
    let (status, body) = login_status(&app, "bien.tap@newsroom.test", password).await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["role"], "editor");
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();

    // Generated when standard input is empty, printed once.
    let out = newsroom(
        &app,
        &[
            "user",
            "create",
            "--email",
            "ctv@newsroom.test",
            "--role",
            "contributor",
            "--name",
            "Cộng tác viên",
        ],
        "",
    );
    assert!(out.ok, "{}", out.stderr);
    let generated = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("generated password: "))
        .expect("the generated password is printed")
        .to_owned();
    assert!(generated.len() >= 16);
    assert_eq!(
        login_status(&app, "ctv@newsroom.test", &generated).await.0,
        200
    );

    // Refused: a short password, a taken email, an unknown role. Nothing is made.
    let out = newsroom(
        &app,
        &[
            "user",
            "create",
            "--email",
            "x@newsroom.test",
            "--role",
            "author",
        ],
        "short\n",
    );
    assert!(!out.ok && out.stderr.contains("at least 12 characters"));
    let out = newsroom(
        &app,
        &[
            "user",
            "create",
            "--email",
            "ctv@newsroom.test",
            "--role",
            "author",
        ],
        "",
    );
    assert!(
        !out.ok && out.stderr.contains("ctv@newsroom.test"),
        "{}",
        out.stderr
    );
    let out = newsroom(
        &app,
        &[
            "user",
            "create",
            "--email",
            "y@newsroom.test",
            "--role",
            "boss",
        ],
        "",
    );
    assert!(!out.ok && out.stderr.contains("boss"));

    let out = newsroom(&app, &["user", "list"], "");
    assert!(out.ok, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(lines[0].contains("bien.tap@newsroom.test\teditor\tactive"));
    assert!(lines[1].contains("ctv@newsroom.test\tcontributor\tactive\tCộng tác viên"));
    assert!(!out.stdout.contains("argon2"));

    // set-role takes effect at the next request.
    let out = newsroom(
        &app,
        &[
            "user",
            "set-role",
            "--email",
            "ctv@newsroom.test",
            "--role",
            "author",
        ],
        "",
    );
    assert!(out.ok, "{}", out.stderr);
    let (_, body) = login_status(&app, "ctv@newsroom.test", &generated).await;
    assert_eq!(body["user"]["role"], "author");
    let out = newsroom(
        &app,
        &[
            "user",
            "set-role",
            "--email",
            "nobody@newsroom.test",
            "--role",
            "author",
        ],
        "",
    );
    assert!(!out.ok && out.stderr.contains("nobody@newsroom.test"));

    // disable: no sign-in, the refresh token is dead, the access token too.
    let access = login_status(&app, "bien.tap@newsroom.test", password)
        .await
        .1["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = newsroom(
        &app,
        &["user", "disable", "--email", "bien.tap@newsroom.test"],
        "",
    );
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        login_status(&app, "bien.tap@newsroom.test", password)
            .await
            .0,
        401
    );
    send(
        &app,
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": refresh})),
        &[],
    )
    .await
    .assert_problem(401, "unauthorized");
    send(
        &app,
        Method::GET,
        "/api/v1/admin/articles",
        Some(&access),
        None,
        &[],
    )
    .await
    .assert_problem(401, "unauthorized");
}

#[actix_web::test]
async fn admins_manage_staff_accounts_over_http() {
    let app = TestApp::spawn().await;
    crate::admin::site(&app).await;
    let admin = crate::admin::token_for(&app, "qt@newsroom.test", "admin").await;
    let admin_id = send(
        &app,
        Method::GET,
        "/api/v1/admin/users",
        Some(&admin),
        None,
        &[],
    )
    .await
    .json["items"][0]["id"]
        .as_i64()
        .unwrap();
    let users = "/api/v1/admin/users";

    // Created with a generated password, linked to an author profile.
    let r = crate::admin::create_at(
        &app,
        users,
        &admin,
        json!({"email": "Phong.Vien@Newsroom.test", "role": "author", "author": "tran-thanh-mai"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.json["user"]["email"], "phong.vien@newsroom.test");
    assert_eq!(r.json["user"]["display_name"], "phong.vien");
    assert!(r.json["user"]["author_id"].is_i64());
    assert!(!r.text.contains("argon2") && r.json["user"].get("password_hash").is_none());
    let id = r.json["user"]["id"].as_i64().unwrap();
    let generated = r.json["generated_password"].as_str().unwrap().to_owned();
    let (status, body) = login_status(&app, "phong.vien@newsroom.test", &generated).await;
    assert_eq!(
        (status, body["user"]["role"].as_str()),
        (200, Some("author"))
    );

    // Every invalid field at once, nothing made; a taken email is 409.
    let r = crate::admin::create_at(
        &app,
        users,
        &admin,
        json!({"email": "not-an-email", "role": "boss", "password": "short", "author": "khong-co", "display_name": ""}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["parameter"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["email", "display_name", "role", "password", "author"]
    );
    crate::admin::create_at(
        &app,
        users,
        &admin,
        json!({"email": "phong.vien@newsroom.test", "role": "editor"}),
    )
    .await
    .assert_problem(409, "conflict");
    let list = send(&app, Method::GET, users, Some(&admin), None, &[]).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 2);

    // Promote, rename, new password (old sign-ins end), then disable.
    let path = format!("{users}/{id}");
    let r = send(
        &app,
        Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"role": "editor", "display_name": "Phóng viên", "password": "một mật khẩu mới dài", "author": null})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["role"], "editor");
    assert_eq!(r.json["author_id"], json!(null));
    assert_eq!(
        login_status(&app, "phong.vien@newsroom.test", &generated)
            .await
            .0,
        401
    );
    let (status, body) =
        login_status(&app, "phong.vien@newsroom.test", "một mật khẩu mới dài").await;
    assert_eq!(
        (status, body["user"]["role"].as_str()),
        (200, Some("editor"))
    );
    let token = body["access_token"].as_str().unwrap().to_owned();
    let r = send(
        &app,
        Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"active": false})),
        &[],
    )
    .await;
    assert_eq!(r.json["active"], false);
    send(
        &app,
        Method::GET,
        "/api/v1/admin/articles",
        Some(&token),
        None,
        &[],
    )
    .await
    .assert_problem(401, "unauthorized");

    // An admin cannot lock themselves out; unknown ids are 404, bad ones 400.
    let me = format!("{users}/{admin_id}");
    let r = send(
        &app,
        Method::PATCH,
        &me,
        Some(&admin),
        Some(json!({"role": "editor", "active": false})),
        &[],
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.json["errors"].as_array().unwrap().len(), 2);
    send(
        &app,
        Method::PATCH,
        &format!("{users}/999999"),
        Some(&admin),
        Some(json!({"role": "editor"})),
        &[],
    )
    .await
    .assert_problem(404, "not_found");
    send(
        &app,
        Method::PATCH,
        &format!("{users}/abc"),
        Some(&admin),
        Some(json!({})),
        &[],
    )
    .await
    .assert_problem(400, "invalid_parameter");
    send(
        &app,
        Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"rights": "all"})),
        &[],
    )
    .await
    .assert_problem(400, "malformed_body");
}
