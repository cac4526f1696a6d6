//! Benchmark ceiling: the smallest actix-web JSON server, to compare the API against.

use actix_web::{App, HttpResponse, HttpServer, web};

async fn index() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok", "message": "xin chào"}))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    HttpServer::new(|| App::new().route("/", web::get().to(index)))
        .bind(addr)?
        .run()
        .await
}
