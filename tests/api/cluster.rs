//! The zero-config PostgreSQL cluster: a second process attaches instead of
//! starting another postmaster, and a crash's stale postmaster.pid does not
//! block the next start.

use newsroom::db::{ClusterOptions, EmbeddedPostgres};

fn scratch(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("newsroom-cluster-{name}-{}", std::process::id()))
}

#[test]
fn a_second_start_attaches_and_a_stale_pid_file_is_ignored() {
    let dir = scratch("attach");
    let _ = std::fs::remove_dir_all(&dir);
    let options = ClusterOptions { ephemeral: true };
    let mut first = EmbeddedPostgres::start(&dir, options).expect("first start");
    let mut second = EmbeddedPostgres::start(&dir, options).expect("second start attaches");
    assert_eq!(first.port(), second.port());
    // The attached one does not stop the cluster it did not start.
    second.stop();
    assert!(std::net::TcpStream::connect(("127.0.0.1", first.port())).is_ok());
    let data_dir = first.data_dir().to_path_buf();
    first.stop();
    assert!(std::net::TcpStream::connect(("127.0.0.1", first.port())).is_err());

    // A crash leaves postmaster.pid naming a dead process and a silent port.
    std::fs::write(
        data_dir.join("postmaster.pid"),
        "999999\n/nowhere\n1700000000\n1\n\n127.0.0.1\n0 0\nready\n",
    )
    .unwrap();
    let mut third = EmbeddedPostgres::start(&dir, options).expect("start after a crash");
    assert!(std::net::TcpStream::connect(("127.0.0.1", third.port())).is_ok());
    third.stop();
    let _ = std::fs::remove_dir_all(&data_dir);
}
