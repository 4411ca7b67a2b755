//! Helpers shared by the tests of every crate.

pub mod inventory;
pub mod plugin;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/support sits two levels below the workspace root")
        .to_path_buf()
}

/// The cfn-lint executable: `$FERRY_CFN_LINT`, the project's `.venv`, or PATH.
/// Tests fail (never skip) when it is missing: a lint that does not run
/// proves nothing.
pub fn cfn_lint_command() -> PathBuf {
    if let Some(path) = std::env::var_os("FERRY_CFN_LINT") {
        return PathBuf::from(path);
    }
    let venv = workspace_root().join(".venv/bin/cfn-lint");
    if venv.is_file() {
        return venv;
    }
    PathBuf::from("cfn-lint")
}

/// Runs cfn-lint once over `templates` (name, template). Returns Err with
/// cfn-lint's report when it finds any error; warnings are printed.
pub fn cfn_lint(templates: &[(String, Value)]) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut paths = Vec::new();
    for (name, template) in templates {
        let path = dir.path().join(format!("{}.json", name.replace('/', "_")));
        let text = serde_json::to_string_pretty(template).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        paths.push(path);
    }
    cfn_lint_files(&paths)
}

/// Runs cfn-lint once over files already on disk.
pub fn cfn_lint_files(paths: &[PathBuf]) -> Result<(), String> {
    if paths.is_empty() {
        return Err("cfn_lint_files called with no templates".into());
    }
    let cmd = cfn_lint_command();
    let output = Command::new(&cmd)
        .args(["--format", "parseable", "--"])
        .args(paths)
        .output()
        .map_err(|e| {
            format!(
                "cannot run {}: {e}\nhint: run `bash scripts/setup.sh` to create .venv with cfn-lint, or set FERRY_CFN_LINT",
                cmd.display()
            )
        })?;
    let code = output.status.code().unwrap_or(1);
    let report = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    // cfn-lint's exit code is a bit mask: 1 fatal, 2 error, 4 warning, 8 info.
    if code & 0b11 != 0 || output.status.code().is_none() {
        return Err(format!("cfn-lint found errors (exit {code}):\n{report}"));
    }
    if !report.trim().is_empty() {
        eprintln!("cfn-lint warnings:\n{report}");
    }
    Ok(())
}

/// Parameters the host declares on every stack it assembles. A plugin's
/// fragment references them without declaring them; tests that lint a bare
/// fragment add them here the way the host would.
pub const HOST_PARAMETERS: &[&str] = &["AppName", "EnvName", "WorkloadName", "EnvironmentName", "AddonsTemplateURL"];

/// Adds a `String` declaration for each host-owned parameter the fragment
/// uses (by `Ref` or inside `Fn::Sub`) but does not declare.
pub fn with_host_parameters(mut template: Value) -> Value {
    let text = template.to_string();
    let used: Vec<&str> = HOST_PARAMETERS
        .iter()
        .copied()
        .filter(|p| text.contains(&format!("\"Ref\":\"{p}\"")) || text.contains(&format!("${{{p}}}")))
        .collect();
    if let Some(obj) = template.as_object_mut() {
        let params = obj.entry("Parameters").or_insert_with(|| Value::Object(Default::default()));
        if let Some(params) = params.as_object_mut() {
            for p in used {
                params.entry(p).or_insert_with(|| serde_json::json!({"Type": "String"}));
            }
        }
    }
    template
}

/// The `.yml` files of a fixture directory, sorted.
pub fn yaml_fixtures(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    files.sort();
    files
}

/// A fixture's name: its file name without extension.
pub fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Reads a YAML fixture as JSON, the form plugins receive manifests in.
pub fn load_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
}

/// A moto server on 127.0.0.1, started for one test binary (or test) and
/// killed when dropped. Fails loudly when moto is not installed.
pub struct Moto {
    child: std::process::Child,
    pub port: u16,
}

impl Moto {
    /// Starts `moto_server` on a free loopback port and waits until it answers.
    pub fn start() -> Moto {
        // scripts/moto_server.py: moto plus the CloudFormation resource models
        // it lacks, run by the venv's Python (or FERRY_MOTO_PYTHON).
        let python = std::env::var_os("FERRY_MOTO_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
            let venv = workspace_root().join(".venv/bin/python");
            if venv.is_file() { venv } else { PathBuf::from("python3") }
        });
        let script = workspace_root().join("scripts/moto_server.py");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let child = Command::new(&python)
            .arg(&script)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}\nhint: run `bash scripts/setup.sh`", python.display()));
        let moto = Moto { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if moto.get("/moto-api/").is_some() {
                return moto;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("moto_server did not answer on 127.0.0.1:{port} within 30 s");
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A plain HTTP GET on loopback; the status line and body, if it answered.
    pub fn get(&self, path: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.starts_with("HTTP/").then_some(response)
    }

    /// A JSON-protocol AWS call (`X-Amz-Target`) on loopback; the response body.
    pub fn call_json(&self, target: &str, body: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).ok()?;
        write!(
            stream,
            "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Amz-Target: {target}\r\nContent-Type: application/x-amz-json-1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-west-2/acm/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
    }

    /// Points this test process's AWS SDK clients at this server.
    pub fn export_env(&self) {
        for (k, v) in self.env() {
            // SAFETY: nextest runs each test in its own process, and tests
            // call this before any thread reads the environment.
            unsafe { std::env::set_var(k, v) };
        }
    }

    /// Environment variables that point the AWS SDK (and ferry) at this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-west-2".into()),
            ("AWS_MAX_ATTEMPTS", "1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's `docker-registry` on a free loopback port, standing in for ECR:
/// filesystem storage in a temp dir, basic auth for user `AWS` with the
/// given password (moto's ECR token is `AWS:<account>-auth-token`). Killed
/// when dropped. Fails loudly when the package is not installed.
pub struct Registry {
    child: std::process::Child,
    pub port: u16,
    password: String,
    dir: tempfile::TempDir,
}

impl Registry {
    pub fn start(password: &str) -> Registry {
        let dir = tempfile::tempdir().expect("tempdir");
        // bcrypt at the lowest cost: the registry checks it on every request.
        let hash = Command::new("python3")
            .args([
                "-W",
                "ignore",
                "-c",
                "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))",
            ])
            .arg(password)
            .output()
            .expect("python3 hashes the registry password");
        let hash = String::from_utf8_lossy(&hash.stdout).trim().to_string();
        assert!(hash.starts_with("$2"), "python3 made no bcrypt hash: {hash:?}");
        std::fs::write(dir.path().join("htpasswd"), format!("AWS:{hash}\n")).expect("write htpasswd");
        let port = free_port();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  htpasswd:\n    realm: ferry-test\n    path: {root}/htpasswd\n",
            root = dir.path().display()
        );
        std::fs::write(dir.path().join("config.yml"), config).expect("write registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start docker-registry: {e}\nhint: run `bash scripts/setup.sh`"));
        let registry = Registry { child, port, password: password.into(), dir };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if registry.request("GET", "/v2/").is_some() {
                return registry;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("docker-registry did not answer on 127.0.0.1:{port} within 20 s");
    }

    /// `127.0.0.1:<port>`, as an image reference names it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The digest the registry holds for `name:reference`
    /// (`HEAD /v2/<name>/manifests/<reference>`, header Docker-Content-Digest).
    pub fn manifest_digest(&self, name: &str, reference: &str) -> Option<String> {
        let response = self.request("HEAD", &format!("/v2/{name}/manifests/{reference}"))?;
        if !response.starts_with("HTTP/1.1 200") && !response.starts_with("HTTP/1.0 200") {
            return None;
        }
        response
            .lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("docker-content-digest")))
            .map(|(_, v)| v.trim().to_string())
    }

    /// The registry's log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    fn request(&self, method: &str, path: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok()?;
        let auth = base64(format!("AWS:{}", self.password).as_bytes());
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\nAccept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.starts_with("HTTP/").then_some(response)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Container storage of one test for podman and buildah (vfs driver, chroot
/// isolation, nothing shared with other tests or the machine's images), as
/// environment variables for the `ferry` process.
pub struct ContainerStorage {
    dir: tempfile::TempDir,
}

impl ContainerStorage {
    pub fn new() -> ContainerStorage {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{root}/graph\"\nrunroot = \"{root}/run\"\n",
            root = dir.path().display()
        );
        std::fs::write(dir.path().join("storage.conf"), conf).expect("write storage.conf");
        ContainerStorage { dir }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CONTAINERS_STORAGE_CONF", self.dir.path().join("storage.conf").display().to_string()),
            ("BUILDAH_ISOLATION", "chroot".into()),
            ("STORAGE_DRIVER", "vfs".into()),
        ]
    }
}

impl Default for ContainerStorage {
    fn default() -> Self {
        Self::new()
    }
}
