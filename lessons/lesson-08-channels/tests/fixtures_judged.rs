//! Every fixture that `cargo xtask fixtures` finds by its file name is
//! judged by this lesson's tests too.

#[test]
fn every_fixture_is_judged_by_a_test() {
    shared::grade::assert_every_fixture_judged(
        env!("CARGO_MANIFEST_DIR"),
        &[
            include_str!("exercise.rs"),
            include_str!("spins.rs"),
            include_str!("hangs.rs"),
        ],
    );
}
