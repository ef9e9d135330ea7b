//! `bugdash serve --demo` on a kept data directory: the first start creates the demo
//! admin and prints its password once; a later start on the same store keeps the account
//! and its password, and says so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const ADMIN: &str = "admin@bugdash.local";

/// A demo service on a free port of 127.0.0.1, stopped when dropped.
struct Demo {
    child: Child,
    address: String,
    /// The lines it printed after its address.
    said: Vec<String>,
}

impl Demo {
    fn start(data_dir: &Path) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bugdash"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
            .current_dir(data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("DB_HOST")
            .env_remove("REDIS_URL")
            .env_remove("REDIS_HOST")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("bugdash serve starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut read = || lines.next().expect("a line").expect("text");
        let first = read();
        let address = first.rsplit("http://").next().expect("an address").to_owned();
        // The admin line and the one after it say how to sign in.
        let said = vec![read(), read()];
        Demo { child, address, said }
    }

    /// The HTTP status of a sign-in as the demo admin with `password`.
    fn login_status(&self, password: &str) -> u16 {
        let body = format!(r#"{{"email":"{ADMIN}","password":"{password}"}}"#);
        let request = format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        );
        let mut stream = TcpStream::connect(&self.address).expect("connect to the demo");
        stream.write_all(request.as_bytes()).expect("send the login");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        let status = answer.split_whitespace().nth(1).and_then(|code| code.parse().ok());
        status.unwrap_or_else(|| panic!("no HTTP status in {answer:?}"))
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_second_demo_on_the_same_store_keeps_the_admin_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");

    let first = Demo::start(dir.path());
    let password = first.said[1].split_whitespace().nth(1).expect("a password").to_owned();
    drop(first);
    let second = Demo::start(dir.path());

    let said = second.said.join("\n");
    assert!(said.contains("already in this store; password unchanged"), "{said}");
    assert!(said.contains("bugdash users set-password"), "{said}");
    let password_line = said.lines().any(|line| line.trim_start().starts_with("password:"));
    assert!(!password_line, "no new password is printed: {said}");
    assert_eq!(second.login_status(&password), 200, "the first password still works");
    assert_eq!(second.login_status("not-the-password"), 401);
}
