//! The end-to-end tests, one module per area, linked into one test binary:
//! forty-five binaries each linking the whole host cost CI three gigabytes of disk
//! and a link apiece. nextest still runs every test in its own process, so a
//! test sees no state another left behind.

mod common;
#[path = "copilot_shapes/mod.rs"]
mod copilot;

mod adopt;
mod adopt_moto;
mod app_layer;
mod bad_input;
mod blue_green_moto;
mod cancel_moto;
mod cold_start;
mod command_surface;
mod command_surface_moto;
mod deploy_moto;
mod domains_moto;
mod env_moto;
mod express_moto;
mod families_moto;
mod faults_moto;
mod field_tables;
mod guard_moto;
mod host_lookups_moto;
mod hostile_plugins;
mod image_build;
mod init_all;
mod init_commands;
mod kill_moto;
mod lb_moto;
mod lb_package;
mod lease_moto;
mod native_plugin;
mod package_examples;
mod pipeline_buildspec;
mod pipelines;
mod plugin_authoring;
mod plugin_commands;
mod plugin_kinds;
mod retained_moto;
mod run_local;
mod stackset_moto;
mod static_site_moto;
mod storage_init;
mod storage_moto;
mod storage_plugin;
mod svc_migrate;
mod task_moto;
mod trust;
mod verdicts;
