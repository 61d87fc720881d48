//! The step from an environment to a manager under test, for every backend
//! (as OpenDAL's testkit does): each function returns a fresh, empty
//! manager, or `None` (after saying why, once) when `cargo xtask test` did
//! not export the backend's emulator. The behaviour suites in `behaviour/`
//! run unchanged against each.
//!
//! Suites that need a vendor's own client to set the scene (a secret
//! planted behind Keystack's back, the vendor's view of the layout) stay in
//! that backend's crate, next to the client.

use std::sync::Arc;

use keystack_secrets_core::remote::zenml::{Layout, Scope};
use keystack_secrets_core::testkit::{CountingProxy, Fixture, emulator_var, unique_id};

/// A fresh local store in a temporary folder of its own.
pub fn local() -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    // A folder Keystack makes itself (0700); the temporary one follows the umask.
    let manager = keystack_secrets_local::LocalBuilder::new()
        .with_path(dir.path().join("store"))
        .build()
        .expect("a new store opens");
    Some(Fixture::new(Arc::new(manager)).with_guard(dir))
}

/// A fresh namespace in moto.
pub fn aws() -> Option<Fixture> {
    let endpoint = emulator_var("KEYSTACK_TEST_AWS_ENDPOINT", "AWS emulator suite")?;
    Some(aws_fixture_at(endpoint))
}

/// The HTTP requests a manager made, as seen by the server side.
pub trait RequestLog: Send + Sync {
    /// Each request so far, one line each.
    fn requests(&self) -> Vec<String>;
    /// Forgets them.
    fn reset(&self);
}

impl RequestLog for CountingProxy {
    fn requests(&self) -> Vec<String> {
        CountingProxy::requests(self)
    }

    fn reset(&self) {
        CountingProxy::reset(self);
    }
}

/// The request log a Key Vault test server of the test's own writes
/// (`--request-log`); the server stops when this is dropped.
struct ServerLog {
    path: std::path::PathBuf,
    server: std::sync::Mutex<std::process::Child>,
    _dir: tempfile::TempDir,
}

impl RequestLog for ServerLog {
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn reset(&self) {
        let _ = std::fs::write(&self.path, "");
    }
}

impl Drop for ServerLog {
    fn drop(&mut self) {
        if let Ok(mut server) = self.server.lock() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

/// A manager under test and what counts its HTTP requests.
pub type Counted = (Fixture, Box<dyn RequestLog>);

/// A fresh namespace in moto, reached through a proxy that counts the
/// HTTP requests.
pub fn aws_counted() -> Option<Counted> {
    let endpoint = emulator_var("KEYSTACK_TEST_AWS_ENDPOINT", "AWS request budgets")?;
    let proxy = CountingProxy::start(&endpoint);
    Some((aws_fixture_at(proxy.url().to_owned()), Box::new(proxy)))
}

/// A Key Vault test server of the test's own, logging each request (TLS
/// keeps a proxy from counting them).
pub fn azure_counted() -> Option<Counted> {
    let program = emulator_var("KEYSTACK_TEST_KEYVAULT", "Azure request budgets")?;
    let args_file = emulator_var("KEYSTACK_TEST_KEYVAULT_ARGS", "Azure request budgets")?;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("requests.log");
    let port = keystack_secrets_core::testkit::free_port();
    let mut args: Vec<String> = std::fs::read_to_string(&args_file)
        .expect("the test server's arguments")
        .lines()
        .map(str::to_owned)
        .collect();
    args.extend([
        "--port".to_owned(),
        port.to_string(),
        "--request-log".to_owned(),
        path.display().to_string(),
    ]);
    let manager = azure_at(&format!("https://127.0.0.1:{port}"))?;
    let server = keystack_secrets_core::testkit::start_server(&program, &args, port);
    let log = ServerLog {
        path,
        server: std::sync::Mutex::new(server),
        _dir: dir,
    };
    Some((Fixture::new(Arc::new(manager)), Box::new(log)))
}

/// A fresh OpenBao namespace, reached through a proxy that counts the
/// HTTP requests.
pub fn vault_counted() -> Option<Counted> {
    let addr = emulator_var("KEYSTACK_TEST_VAULT_ADDR", "OpenBao request budgets")?;
    let token = emulator_var("KEYSTACK_TEST_VAULT_TOKEN", "OpenBao request budgets")?;
    let proxy = CountingProxy::start(&addr);
    let manager = keystack_secrets_vault::VaultBuilder::new()
        .with_url(proxy.url())
        .with_token(token)
        .with_namespace(unique_id())
        .build()
        .expect("the Vault settings are valid");
    Some((Fixture::new(Arc::new(manager)), Box::new(proxy)))
}

/// A fresh project in drongo, reached through a proxy that counts the
/// HTTP requests.
pub fn gcp_counted() -> Option<Counted> {
    let endpoint = emulator_var("KEYSTACK_TEST_GCP_ENDPOINT", "GCP request budgets")?;
    let proxy = CountingProxy::start(&endpoint);
    let manager = keystack_secrets_gcp::GcpBuilder::new()
        .with_project_id(format!("p{}", unique_id()))
        .with_endpoint(proxy.url())
        .build()
        .expect("the GCP settings are valid");
    Some((Fixture::new(Arc::new(manager)), Box::new(proxy)))
}

/// Attempts per call against moto: its threaded server now and then
/// answers 500 to a listing while another thread writes (an emulator race,
/// not an AWS behaviour), more often with two AWS suites at once.
const MOTO_ATTEMPTS: u32 = 6;

/// A manager's builder on moto at `endpoint`, in a fresh namespace.
fn aws_builder(endpoint: String) -> keystack_secrets_aws::AwsBuilder {
    keystack_secrets_aws::AwsBuilder::new()
        .with_region("us-east-1")
        .with_endpoint_url(endpoint)
        .with_namespace(unique_id())
        .with_max_attempts(MOTO_ATTEMPTS)
        .with_credentials(keystack_secrets_aws::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "keystack-tests",
        ))
}

fn aws_fixture_at(endpoint: String) -> Fixture {
    let manager = aws_builder(endpoint)
        .build()
        .expect("the AWS settings are valid");
    Fixture::new(Arc::new(manager))
}

/// A fresh ZenML namespace (`layout: zenml`, scope `namespace`) in moto.
pub fn aws_zenml() -> Option<Fixture> {
    let endpoint = emulator_var("KEYSTACK_TEST_AWS_ENDPOINT", "AWS emulator suite")?;
    let manager = aws_builder(endpoint)
        .with_layout(Layout::Zenml)
        .with_scope(Scope::Namespace)
        .with_component_id(COMPONENT_ID)
        .with_component_name("zenml_sm")
        .build()
        .expect("the AWS settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}

/// A fresh ZenML namespace (`layout: zenml`, scope `namespace`) in drongo.
pub fn gcp_zenml() -> Option<Fixture> {
    let manager = gcp_builder()?
        .with_layout(Layout::Zenml)
        .with_scope(Scope::Namespace)
        .with_namespace(format!("n{}", unique_id()))
        .with_component_id(COMPONENT_ID)
        .with_component_name("zenml_sm")
        .build()
        .expect("the GCP settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}

/// A fresh ZenML namespace (`layout: zenml`, scope `namespace`) in the
/// Key Vault test server.
pub fn azure_zenml() -> Option<Fixture> {
    let manager = azure_builder()?
        .with_layout(Layout::Zenml)
        .with_scope(Scope::Namespace)
        .with_component_id(COMPONENT_ID)
        .with_component_name("zenml_sm")
        .build()
        .expect("the Azure settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}

/// A fresh ZenML namespace (`layout: zenml`, scope `namespace`) in the
/// OpenBao dev server.
pub fn vault_zenml() -> Option<Fixture> {
    let manager = vault_builder()?
        .with_layout(Layout::Zenml)
        .with_scope(Scope::Namespace)
        .with_component_id(COMPONENT_ID)
        .with_component_name("zenml_sm")
        .build()
        .expect("the Vault settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}

/// The UUID the ZenML-layout fixtures give their ZenML component.
pub const COMPONENT_ID: &str = "2b2ca6f5-3b5c-4b4e-9d7a-1c2d3e4f5a6b";

/// A manager's builder on drongo, in a fresh project.
fn gcp_builder() -> Option<keystack_secrets_gcp::GcpBuilder> {
    let endpoint = emulator_var("KEYSTACK_TEST_GCP_ENDPOINT", "GCP emulator suite")?;
    Some(
        keystack_secrets_gcp::GcpBuilder::new()
            .with_project_id(format!("p{}", unique_id()))
            .with_endpoint(endpoint),
    )
}

/// A fresh project in drongo.
pub fn gcp() -> Option<Fixture> {
    let manager = gcp_builder()?.build().expect("the GCP settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}

/// A manager's builder on the OpenBao dev server, in a fresh namespace.
fn vault_builder() -> Option<keystack_secrets_vault::VaultBuilder> {
    let addr = emulator_var("KEYSTACK_TEST_VAULT_ADDR", "OpenBao suite")?;
    let token = emulator_var("KEYSTACK_TEST_VAULT_TOKEN", "OpenBao suite")?;
    Some(
        keystack_secrets_vault::VaultBuilder::new()
            .with_url(addr)
            .with_token(token)
            .with_namespace(unique_id()),
    )
}

/// A fresh namespace in the OpenBao dev server.
pub fn vault() -> Option<Fixture> {
    let manager = vault_builder()?
        .build()
        .expect("the Vault settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}

/// A manager's builder on the Key Vault test server, in a fresh namespace.
fn azure_builder() -> Option<keystack_secrets_azure::AzureBuilder> {
    let url = emulator_var("KEYSTACK_TEST_AZURE_VAULT_URL", "Azure Key Vault suite")?;
    let ca = emulator_var("KEYSTACK_TEST_AZURE_CA", "Azure Key Vault suite")?;
    Some(
        keystack_secrets_azure::AzureBuilder::new()
            .with_vault_url(url)
            .with_ca_file(ca)
            .with_verify_challenge_resource(false)
            .with_namespace(unique_id()),
    )
}

/// A fresh namespace in the Key Vault test server: its certificate
/// authority trusted, and the challenge's resource (`https://vault.azure.net`,
/// as Key Vault sends it) not required to match 127.0.0.1.
pub fn azure() -> Option<Fixture> {
    let manager = azure_builder()?
        .build()
        .expect("the Azure settings are valid");
    Some(Fixture::new(Arc::new(manager)))
}

/// A server of a test's own, on a free port, for outage tests: how to start
/// it (again), a manager pointed at it that retries briefly, and the address
/// errors must name.
pub struct OwnServer {
    /// Starts the server and waits until it accepts connections.
    pub start: Box<dyn Fn() -> std::process::Child + Send + Sync>,
    /// A manager pointed at it.
    pub manager: Arc<dyn keystack_secrets_core::SecretsManager>,
    /// Its address.
    pub endpoint: String,
}

impl std::fmt::Debug for OwnServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnServer")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Servers of a test's own, per backend (`None`: the emulator's program
/// was not exported, the test skips).
pub mod own_server {
    use std::sync::Arc;
    use std::time::Duration;

    use keystack_secrets_core::testkit::{emulator_var, free_port, start_server};

    use super::OwnServer;

    fn server(
        program: String,
        args: Vec<String>,
        port: u16,
    ) -> Box<dyn Fn() -> std::process::Child + Send + Sync> {
        Box::new(move || start_server(&program, &args, port))
    }

    /// A moto server of the test's own.
    pub fn aws() -> Option<OwnServer> {
        let moto = emulator_var("KEYSTACK_TEST_MOTO", "AWS outage test")?;
        let port = free_port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let args = ["-H", "127.0.0.1", "-p", &port.to_string()]
            .map(str::to_owned)
            .to_vec();
        Some(OwnServer {
            start: server(moto, args, port),
            manager: Arc::new(super::aws_at(&endpoint, 2)),
            endpoint,
        })
    }

    /// A drongo server of the test's own.
    pub fn gcp() -> Option<OwnServer> {
        let drongo = emulator_var("KEYSTACK_TEST_DRONGO", "GCP outage test")?;
        let port = free_port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let args = ["server", "--host", "127.0.0.1", "--port", &port.to_string()]
            .map(str::to_owned)
            .to_vec();
        Some(OwnServer {
            start: server(drongo, args, port),
            manager: Arc::new(super::gcp_at(&endpoint, 3)),
            endpoint,
        })
    }

    /// An OpenBao dev server of the test's own.
    pub fn vault() -> Option<OwnServer> {
        let bao = emulator_var("KEYSTACK_TEST_BAO", "Vault outage test")?;
        let port = free_port();
        let endpoint = format!("http://127.0.0.1:{port}");
        let args = vec![
            "server".to_owned(),
            "-dev".to_owned(),
            format!("-dev-listen-address=127.0.0.1:{port}"),
            "-dev-root-token-id=restart-test-root".to_owned(),
            "-dev-no-store-token".to_owned(),
        ];
        Some(OwnServer {
            start: server(bao, args, port),
            manager: Arc::new(super::vault_at(&endpoint, "restart-test-root", 3)),
            endpoint,
        })
    }

    /// A Key Vault test server of the test's own.
    pub fn azure() -> Option<OwnServer> {
        let program = emulator_var("KEYSTACK_TEST_KEYVAULT", "Azure outage test")?;
        let args_file = emulator_var("KEYSTACK_TEST_KEYVAULT_ARGS", "Azure outage test")?;
        let port = free_port();
        let endpoint = format!("https://127.0.0.1:{port}");
        let mut args: Vec<String> = std::fs::read_to_string(&args_file)
            .expect("the test server's arguments")
            .lines()
            .map(str::to_owned)
            .collect();
        args.extend(["--port".to_owned(), port.to_string()]);
        let manager = super::azure_at(&endpoint)?;
        Some(OwnServer {
            start: server(program, args, port),
            manager: Arc::new(manager),
            endpoint,
        })
    }

    /// How long one attempt may take in these tests.
    pub(crate) const ATTEMPT: Duration = Duration::from_secs(2);
}

/// Managers pointed at an address where nothing listens (`None` where the
/// backend needs an exported variable, such as a certificate authority).
pub mod unreachable {
    use std::sync::Arc;

    use keystack_secrets_core::SecretsManager;
    use keystack_secrets_core::testkit::free_port;

    /// An address on which nothing listens.
    pub fn endpoint(scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", free_port())
    }

    /// AWS.
    pub fn aws() -> Option<(Arc<dyn SecretsManager>, String)> {
        let endpoint = endpoint("http");
        Some((Arc::new(super::aws_at(&endpoint, 2)), endpoint))
    }

    /// GCP.
    pub fn gcp() -> Option<(Arc<dyn SecretsManager>, String)> {
        let endpoint = endpoint("http");
        Some((Arc::new(super::gcp_at(&endpoint, 2)), endpoint))
    }

    /// Vault.
    pub fn vault() -> Option<(Arc<dyn SecretsManager>, String)> {
        let endpoint = endpoint("http");
        Some((Arc::new(super::vault_at(&endpoint, "t", 2)), endpoint))
    }

    /// Azure (needs the test server's certificate authority).
    pub fn azure() -> Option<(Arc<dyn SecretsManager>, String)> {
        let endpoint = endpoint("https");
        Some((Arc::new(super::azure_at(&endpoint)?), endpoint))
    }
}

fn aws_at(endpoint: &str, attempts: u32) -> keystack_secrets_aws::AwsSecretsManager {
    keystack_secrets_aws::AwsBuilder::new()
        .with_region("us-east-1")
        .with_endpoint_url(endpoint)
        .with_namespace(unique_id())
        .with_max_attempts(attempts)
        .with_credentials(keystack_secrets_aws::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "keystack-tests",
        ))
        .build()
        .expect("the AWS settings are valid")
}

fn gcp_at(endpoint: &str, attempts: u32) -> keystack_secrets_gcp::GcpSecretsManager {
    keystack_secrets_gcp::GcpBuilder::new()
        .with_project_id("restart")
        .with_endpoint(endpoint)
        .with_max_attempts(attempts)
        .with_timeout(own_server::ATTEMPT)
        .build()
        .expect("the GCP settings are valid")
}

fn vault_at(
    endpoint: &str,
    token: &str,
    attempts: u32,
) -> keystack_secrets_vault::VaultSecretsManager {
    keystack_secrets_vault::VaultBuilder::new()
        .with_url(endpoint)
        .with_token(token)
        .with_max_attempts(attempts)
        .with_timeout(own_server::ATTEMPT)
        .build()
        .expect("the Vault settings are valid")
}

fn azure_at(endpoint: &str) -> Option<keystack_secrets_azure::AzureSecretsManager> {
    let ca = emulator_var("KEYSTACK_TEST_AZURE_CA", "Azure Key Vault suite")?;
    Some(
        keystack_secrets_azure::AzureBuilder::new()
            .with_vault_url(endpoint)
            .with_ca_file(ca)
            .with_verify_challenge_resource(false)
            .with_timeout(own_server::ATTEMPT)
            .build()
            .expect("the Azure settings are valid"),
    )
}
