use std::path::Path;

use super::Exit;
use super::load::load_checked;
use super::output::outln;
use crate::app::AppError;
use crate::storage;

pub async fn migrate(path: &Path) -> Exit {
    let (config, _) = match load_checked(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = async {
        let db = storage::connect(&config.database).await?;
        storage::migrate(&db).await
    }
    .await;
    match result {
        Ok(n) => {
            outln!("applied {n} migration(s); the database is up to date");
            Exit::Ok
        }
        Err(e) => super::load::fail(&AppError::Storage(e)),
    }
}
