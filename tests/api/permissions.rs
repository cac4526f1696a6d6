//! Every role against every write action: the permission table of the
//! editorial API, cell by cell. A refused action is a 403 problem and writes
//! nothing (the audit log, which records every write, does not grow).

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{create, create_at, draft, send, site, token_for};
use crate::harness::{Response, TestApp};

const ROLES: [&str; 4] = ["contributor", "author", "editor", "admin"];

#[derive(Debug, Clone, Copy)]
enum Action {
    CreateDraft,
    ReadOwn,
    EditOwnDraft,
    PinRelatedOnOwnDraft,
    PublishOwn,
    ScheduleOwn,
    UnpublishOwn,
    EditOwnPublished,
    ArchiveOwn,
    ReadOthers,
    EditOthersDraft,
    EditOthersPublished,
    PublishOthers,
    ScheduleOthers,
    UnpublishOthers,
    ArchiveOthers,
    RestoreOthersRevision,
    PinRelatedOnOthers,
    HardDelete,
    CreateTag,
    RenameTag,
    DeleteUnusedTag,
    DeleteTagInUse,
    CreateMedia,
    UpdateMedia,
    DeleteMedia,
    CreateCategory,
    MoveCategory,
    DeleteCategory,
    CreateAuthor,
    UpdateAuthor,
    DeleteAuthor,
    ListUsers,
    CreateUser,
    UpdateUser,
    ReadAudit,
}

use Action::*;

/// The table: may a contributor, author, editor, admin do it?
const TABLE: &[(Action, [bool; 4])] = &[
    (CreateDraft, [true, true, true, true]),
    (ReadOwn, [true, true, true, true]),
    (EditOwnDraft, [true, true, true, true]),
    (PinRelatedOnOwnDraft, [true, true, true, true]),
    (PublishOwn, [false, true, true, true]),
    (ScheduleOwn, [false, true, true, true]),
    (UnpublishOwn, [false, true, true, true]),
    (EditOwnPublished, [false, true, true, true]),
    (ArchiveOwn, [false, true, true, true]),
    (ReadOthers, [false, true, true, true]),
    (EditOthersDraft, [false, false, true, true]),
    (EditOthersPublished, [false, false, true, true]),
    (PublishOthers, [false, false, true, true]),
    (ScheduleOthers, [false, false, true, true]),
    (UnpublishOthers, [false, false, true, true]),
    (ArchiveOthers, [false, false, true, true]),
    (RestoreOthersRevision, [false, false, true, true]),
    (PinRelatedOnOthers, [false, false, true, true]),
    (HardDelete, [false, false, false, true]),
    (CreateTag, [false, true, true, true]),
    (RenameTag, [false, true, true, true]),
    (DeleteUnusedTag, [false, true, true, true]),
    (DeleteTagInUse, [false, false, true, true]),
    (CreateMedia, [false, true, true, true]),
    (UpdateMedia, [false, true, true, true]),
    (DeleteMedia, [false, true, true, true]),
    (CreateCategory, [false, false, true, true]),
    (MoveCategory, [false, false, true, true]),
    (DeleteCategory, [false, false, true, true]),
    (CreateAuthor, [false, false, true, true]),
    (UpdateAuthor, [false, false, true, true]),
    (DeleteAuthor, [false, false, true, true]),
    (ListUsers, [false, false, false, true]),
    (CreateUser, [false, false, false, true]),
    (UpdateUser, [false, false, false, true]),
    (ReadAudit, [false, false, false, true]),
];

type Request = (Method, String, Option<Value>);

struct Cast {
    tokens: Vec<String>,
    /// An author whose articles are "someone else's" for everyone.
    other: String,
    admin: String,
}

fn id_of(r: &Response) -> i64 {
    assert!(r.status.is_success(), "{}", r.text);
    r.json["id"].as_i64().expect("an id")
}

async fn draft_by(app: &TestApp, token: &str, title: &str) -> i64 {
    id_of(&create(app, token, draft(title)).await)
}

async fn published_by(app: &TestApp, cast: &Cast, token: &str, title: &str) -> i64 {
    let id = draft_by(app, token, title).await;
    let r = call(
        app,
        Method::POST,
        &article(id, "/publish"),
        &cast.admin,
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

fn article(id: i64, rest: &str) -> String {
    format!("/api/v1/admin/articles/{id}{rest}")
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Response {
    send(app, method, path, Some(token), body, &[]).await
}

async fn audit_rows(app: &TestApp) -> i64 {
    use newsroom::schema::audit_log;
    let mut conn = app.conn().await;
    audit_log::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}

/// Sets up what `action` needs (as admin, or as the object's owner) and
/// returns the request that performs it.
async fn prepare(app: &TestApp, cast: &Cast, token: &str, action: Action, n: usize) -> Request {
    let title = format!("Bài {n} {action:?}");
    let unique = format!("muc-{n}");
    let later = json!({"at": (Utc::now() + Duration::days(1)).to_rfc3339()});
    let patch = json!({"summary": "Sửa tóm tắt.", "version": 1});
    match action {
        CreateDraft => (
            Method::POST,
            "/api/v1/admin/articles".into(),
            Some(draft(&title)),
        ),
        ReadOwn => {
            let id = draft_by(app, token, &title).await;
            (Method::GET, article(id, ""), None)
        }
        EditOwnDraft => {
            let id = draft_by(app, token, &title).await;
            (Method::PATCH, article(id, ""), Some(patch))
        }
        PinRelatedOnOwnDraft => {
            let id = draft_by(app, token, &title).await;
            // Their own: a contributor cannot see others' drafts.
            let other = draft_by(app, token, &format!("{title} khác")).await;
            let body = json!({"articles": [other]});
            (Method::PUT, article(id, "/related"), Some(body))
        }
        PublishOwn | ScheduleOwn | ArchiveOwn => {
            let id = draft_by(app, token, &title).await;
            match action {
                PublishOwn => (Method::POST, article(id, "/publish"), None),
                ScheduleOwn => (Method::POST, article(id, "/schedule"), Some(later)),
                _ => (Method::DELETE, article(id, ""), None),
            }
        }
        UnpublishOwn | EditOwnPublished => {
            let id = published_by(app, cast, token, &title).await;
            if let UnpublishOwn = action {
                (Method::POST, article(id, "/unpublish"), None)
            } else {
                let body = json!({"summary": "Sửa.", "version": 2});
                (Method::PATCH, article(id, ""), Some(body))
            }
        }
        ReadOthers => {
            let id = draft_by(app, &cast.other, &title).await;
            (Method::GET, article(id, ""), None)
        }
        EditOthersDraft => {
            let id = draft_by(app, &cast.other, &title).await;
            (Method::PATCH, article(id, ""), Some(patch))
        }
        PublishOthers | ScheduleOthers | ArchiveOthers | PinRelatedOnOthers | HardDelete => {
            let id = draft_by(app, &cast.other, &title).await;
            match action {
                PublishOthers => (Method::POST, article(id, "/publish"), None),
                ScheduleOthers => (Method::POST, article(id, "/schedule"), Some(later)),
                ArchiveOthers => (Method::DELETE, article(id, ""), None),
                PinRelatedOnOthers => {
                    // Their own: a contributor cannot see others' drafts.
                    let other = draft_by(app, token, &format!("{title} khác")).await;
                    let body = json!({"articles": [other]});
                    (Method::PUT, article(id, "/related"), Some(body))
                }
                _ => (Method::DELETE, article(id, "?hard=true"), None),
            }
        }
        EditOthersPublished | UnpublishOthers => {
            let id = published_by(app, cast, &cast.other, &title).await;
            if let UnpublishOthers = action {
                (Method::POST, article(id, "/unpublish"), None)
            } else {
                let body = json!({"summary": "Sửa.", "version": 2});
                (Method::PATCH, article(id, ""), Some(body))
            }
        }
        RestoreOthersRevision => {
            let id = draft_by(app, &cast.other, &title).await;
            let r = call(
                app,
                Method::PATCH,
                &article(id, ""),
                &cast.other,
                Some(patch),
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.text);
            (Method::POST, article(id, "/revisions/1/restore"), None)
        }
        CreateTag => {
            let body = json!({"name": format!("Chủ đề {n}")});
            (Method::POST, "/api/v1/admin/tags".into(), Some(body))
        }
        RenameTag | DeleteUnusedTag | DeleteTagInUse => {
            let body = json!({"name": format!("Chủ đề {n}"), "slug": unique});
            let tag = id_of(&create_at(app, "/api/v1/admin/tags", &cast.admin, body).await);
            let path = format!("/api/v1/admin/tags/{tag}");
            match action {
                RenameTag => {
                    let body = json!({"name": "Tên mới"});
                    (Method::PATCH, path, Some(body))
                }
                DeleteUnusedTag => (Method::DELETE, path, None),
                _ => {
                    let mut body = draft(&title);
                    body["tags"] = json!([unique]);
                    id_of(&create(app, &cast.admin, body).await);
                    (Method::DELETE, path, None)
                }
            }
        }
        CreateMedia | UpdateMedia | DeleteMedia => {
            let body =
                json!({"url": format!("/media/{n}.jpg"), "alt": "Ảnh", "mime_type": "image/jpeg"});
            if let CreateMedia = action {
                return (Method::POST, "/api/v1/admin/media".into(), Some(body));
            }
            let media = id_of(&create_at(app, "/api/v1/admin/media", &cast.admin, body).await);
            let path = format!("/api/v1/admin/media/{media}");
            if let UpdateMedia = action {
                let body = json!({"alt": "Ảnh đã sửa"});
                (Method::PATCH, path, Some(body))
            } else {
                (Method::DELETE, path, None)
            }
        }
        CreateCategory | MoveCategory | DeleteCategory => {
            let body = json!({"name": format!("Mục {n}"), "slug": unique, "parent": "xa-hoi"});
            if let CreateCategory = action {
                return (Method::POST, "/api/v1/admin/categories".into(), Some(body));
            }
            let category =
                id_of(&create_at(app, "/api/v1/admin/categories", &cast.admin, body).await);
            let path = format!("/api/v1/admin/categories/{category}");
            if let MoveCategory = action {
                let body = json!({"parent": "dan-so", "position": 3});
                (Method::PATCH, path, Some(body))
            } else {
                (Method::DELETE, path, None)
            }
        }
        CreateAuthor | UpdateAuthor | DeleteAuthor => {
            let body = json!({"name": format!("Tác giả {n}"), "slug": unique});
            if let CreateAuthor = action {
                return (Method::POST, "/api/v1/admin/authors".into(), Some(body));
            }
            let author = id_of(&create_at(app, "/api/v1/admin/authors", &cast.admin, body).await);
            let path = format!("/api/v1/admin/authors/{author}");
            if let UpdateAuthor = action {
                let body = json!({"bio": "Phóng viên."});
                (Method::PATCH, path, Some(body))
            } else {
                (Method::DELETE, path, None)
            }
        }
        ListUsers => (Method::GET, "/api/v1/admin/users".into(), None),
        CreateUser | UpdateUser => {
            let body = json!({"email": format!("nv{n}@newsroom.test"), "role": "contributor"});
            if let CreateUser = action {
                return (Method::POST, "/api/v1/admin/users".into(), Some(body));
            }
            let r = create_at(app, "/api/v1/admin/users", &cast.admin, body).await;
            assert_eq!(r.status, 201, "{}", r.text);
            let user = r.json["user"]["id"].as_i64().unwrap();
            let body = json!({"role": "author"});
            let path = format!("/api/v1/admin/users/{user}");
            (Method::PATCH, path, Some(body))
        }
        ReadAudit => (Method::GET, "/api/v1/admin/audit".into(), None),
    }
}

#[actix_web::test]
async fn every_role_against_every_action() {
    let app = TestApp::spawn().await;
    site(&app).await;
    let mut tokens = Vec::new();
    for role in ROLES {
        tokens.push(token_for(&app, &format!("{role}@newsroom.test"), role).await);
    }
    let cast = Cast {
        other: token_for(&app, "someone.else@newsroom.test", "author").await,
        admin: tokens[3].clone(),
        tokens,
    };
    let mut n = 0;
    let mut wrong = Vec::new();
    for (action, allowed) in TABLE {
        for (r, role) in ROLES.iter().enumerate() {
            n += 1;
            let token = &cast.tokens[r];
            let (method, path, body) = prepare(&app, &cast, token, *action, n).await;
            let before = audit_rows(&app).await;
            let response = call(&app, method, &path, token, body).await;
            if allowed[r] {
                if !response.status.is_success() {
                    wrong.push(format!(
                        "{role} {action:?}: {} {}",
                        response.status, response.text
                    ));
                }
            } else if response.status != 403 {
                wrong.push(format!(
                    "{role} {action:?}: {} {}",
                    response.status, response.text
                ));
            } else {
                response.assert_problem(403, "forbidden");
                assert_eq!(
                    audit_rows(&app).await,
                    before,
                    "{role} {action:?} wrote something"
                );
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "cells that disagree with the table:\n{}",
        wrong.join("\n")
    );
}
