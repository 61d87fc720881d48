//! Pagination, over recorded `ListSecrets` answers: drongo ignores
//! `pageSize` and never returns a `nextPageToken`, so the paging loop is
//! tested here against a stub client that answers like the real service.

use std::sync::Mutex;

use google_cloud_gax::options::RequestOptions;
use google_cloud_gax::response::Response;
use google_cloud_secretmanager_v1::stub;

use super::*;

/// Three pages as Secret Manager returns them (trimmed to the fields
/// Keystack reads): newest first, `nextPageToken` on all but the last.
const PAGES: [&str; 3] = [
    r#"{
      "secrets": [
        {"name": "projects/p/secrets/keystack4-prod-web", "labels": {"keystack-managed": "true", "keystack-namespace": "prod", "keystack-schema": "arbitrary"}, "createTime": "2026-11-02T10:00:00Z"},
        {"name": "projects/p/secrets/keystack4-prod-api", "labels": {"keystack-managed": "true", "keystack-namespace": "prod", "keystack-schema": "basic_auth"}, "createTime": "2026-11-02T09:00:00Z"}
      ],
      "nextPageToken": "CiBwcm9qZWN0cy9wL3NlY3JldHMva2V5c3RhY2s0LXByb2QtYXBp",
      "totalSize": 6
    }"#,
    r#"{
      "secrets": [
        {"name": "projects/p/secrets/keystack3-dev-api", "labels": {"keystack-managed": "true", "keystack-namespace": "dev"}},
        {"name": "projects/p/secrets/keystack4-prod-db", "labels": {"keystack-managed": "true", "keystack-namespace": "prod"}}
      ],
      "nextPageToken": "CiBwcm9qZWN0cy9wL3NlY3JldHMva2V5c3RhY2s0LXByb2QtZGI",
      "totalSize": 6
    }"#,
    r#"{
      "secrets": [
        {"name": "projects/p/secrets/keystack4-prod-hand-made", "labels": {"team": "ml"}},
        {"name": "projects/p/secrets/keystack4-prod-cache", "labels": {"keystack-managed": "true", "keystack-namespace": "prod"}}
      ],
      "totalSize": 6
    }"#,
];

#[derive(Debug, Default)]
struct Recorded {
    requests: Mutex<Vec<model::ListSecretsRequest>>,
}

impl stub::SecretManagerService for Recorded {
    async fn list_secrets(
        &self,
        req: model::ListSecretsRequest,
        _options: RequestOptions,
    ) -> google_cloud_secretmanager_v1::Result<Response<model::ListSecretsResponse>> {
        let index = match req.page_token.as_str() {
            "" => 0,
            "CiBwcm9qZWN0cy9wL3NlY3JldHMva2V5c3RhY2s0LXByb2QtYXBp" => 1,
            "CiBwcm9qZWN0cy9wL3NlY3JldHMva2V5c3RhY2s0LXByb2QtZGI" => 2,
            other => panic!("unexpected page token {other:?}"),
        };
        self.requests.lock().unwrap().push(req);
        Ok(Response::from(serde_json::from_str(PAGES[index]).unwrap()))
    }
}

fn manager(stub: std::sync::Arc<Recorded>) -> GcpSecretsManager {
    let config = GcpBuilder::new()
        .with_project_id("p")
        .with_namespace("prod")
        .with_page_size(2)
        .checked_config()
        .unwrap();
    GcpSecretsManager::with_client(config, SecretManagerService::from_stub::<Recorded>(stub))
}

#[tokio::test]
async fn listing_follows_every_page_and_keeps_only_this_namespace() {
    let stub = std::sync::Arc::new(Recorded::default());
    let names = manager(stub.clone()).list_secret_names().await.unwrap();
    let names: Vec<&str> = names.iter().map(SecretName::as_str).collect();
    assert_eq!(names, ["api", "cache", "db", "web"]);

    let requests = stub.requests.lock().unwrap();
    assert_eq!(requests.len(), 3, "one request per page, and no more");
    for (request, token) in requests.iter().zip([
        "",
        "CiBwcm9qZWN0cy9wL3NlY3JldHMva2V5c3RhY2s0LXByb2QtYXBp",
        "CiBwcm9qZWN0cy9wL3NlY3JldHMva2V5c3RhY2s0LXByb2QtZGI",
    ]) {
        assert_eq!(request.parent, "projects/p");
        assert_eq!(request.page_size, 2);
        assert_eq!(request.page_token, token);
        assert_eq!(request.filter, "labels.keystack-managed=true");
    }
}

#[tokio::test]
async fn delete_all_lists_every_page_before_deleting() {
    // The stub answers only listings: a delete would fail the test with the
    // stub's "unimplemented" error. So an empty namespace deletes nothing.
    let stub = std::sync::Arc::new(Recorded::default());
    let config = GcpBuilder::new()
        .with_project_id("p")
        .with_namespace("empty")
        .checked_config()
        .unwrap();
    let m = GcpSecretsManager::with_client(
        config,
        SecretManagerService::from_stub::<Recorded>(stub.clone()),
    );
    assert_eq!(m.delete_all_secrets().await.unwrap(), 0);
    assert_eq!(stub.requests.lock().unwrap().len(), 3);
}
