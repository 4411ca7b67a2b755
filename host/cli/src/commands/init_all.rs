pub fn run(_args: crate::cli::InitAll, _cx: &crate::context::CommandContext) -> anyhow::Result<()> {
    todo!()
}
