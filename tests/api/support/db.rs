//! A database owned by one test.

use rand::RngCore;
use sea_orm::{ConnectionTrait, Database};

/// A database owned by one test: a SQLite file in a temp dir, or a fresh PostgreSQL database
/// (dropped when the test ends) when TEST_DATABASE_URL is set.
pub struct TestDb {
    pub url: String,
    pg: Option<(String, String)>,
}

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl TestDb {
    pub async fn create(dir: &std::path::Path) -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            Some(admin) => {
                let name = format!("orderdeck_t_{}", random_suffix());
                let conn = Database::connect(&admin)
                    .await
                    .expect("connecting to TEST_DATABASE_URL");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                conn.close().await.ok();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
                TestDb {
                    url: format!("{base}/{name}"),
                    pg: Some((admin, name)),
                }
            }
            None => TestDb {
                url: format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
                pg: None,
            },
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(conn) = Database::connect(&admin).await {
                        let _ = conn
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}
