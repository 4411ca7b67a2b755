fn main() {
    println!("{}", ferry_bundled::BUNDLED.len());
}
