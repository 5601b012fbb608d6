// error[E0752]: `main` function is not allowed to be `async`
async fn main() {
    println!("nothing would ever poll this");
}
