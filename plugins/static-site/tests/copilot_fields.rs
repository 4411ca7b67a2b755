//! Every field Copilot documents for this manifest type (the inventory in
//! `tests/data/copilot-fields.md`) is a key the plugin's JSON Schema
//! accepts, spelled exactly as Copilot's YAML tag, and rendered.

use ferry_plugin_sdk::Plugin;
use ferry_test_support::inventory;

const SECTION: &str = "Static Site";

#[test]
fn the_schema_accepts_every_field_copilot_documents() {
    inventory::assert_schema_accepts_every_field(
        SECTION,
        &ferry_plugin_static_site::StaticSite::info().manifest_schema,
    );
}

#[test]
fn fields_md_says_rendered_for_every_inventory_field() {
    let table = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("FIELDS.md")).unwrap();
    inventory::assert_fields_md_renders_every_field(SECTION, &table);
}
