// The migrations are embedded by `sqlx::migrate!`; without this, a new migration file would not
// rebuild the crate (sqlx's own advice, as `sqlx migrate build-script` writes it).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
