fn main() {
    mastoplan::mount();
}
