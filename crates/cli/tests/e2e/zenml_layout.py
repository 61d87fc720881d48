"""ZenML 0.35's cloud secrets managers, down to how they stored secrets.

The storage half of `zenml/secrets_managers/base_secrets_manager.py`,
`zenml/secrets_managers/utils.py` and the AWS, GCP, Azure and Vault
secrets managers of ZenML 0.30-0.37 (`zenml/integrations/*/secrets_managers/`),
on each vendor's own Python client, so that the end-to-end tests can write
secrets as ZenML did and read what Keystack wrote as ZenML would.

    python zenml_layout.py BACKEND ACTION 'JSON'

BACKEND is aws, gcp, azure or vault; ACTION is register, get, list, update,
delete delete_all, or plant (a secret at the scoped name without
ZenML's tags, which ZenML does not count as in the scope); JSON holds the manager's configuration (scope, namespace,
component_id, component_name, and project for gcp) and the secret (name,
schema, content). The answer is JSON on standard output; a secret that is
not in the scope exits 3 with ZenML's KeyError on standard error.
"""

import json
import os
import sys

ZENML_SCOPE_PATH_PREFIX = "zenml"
ZENML_SCHEMA_NAME = "zenml_schema_name"
ZENML_SECRET_NAME_LABEL = "zenml_secret_name"


class Scope:
    """The scope arithmetic of ZenML's BaseSecretsManager."""

    def __init__(self, config, separator):
        self.scope = config.get("scope", "component")
        self.namespace = config.get("namespace")
        self.id = config.get("component_id")
        self.name = config.get("component_name", "zenml_sm")
        self.separator = separator

    def scope_path(self):
        if self.scope == "none":
            return []
        path = [ZENML_SCOPE_PATH_PREFIX, self.scope]
        if self.scope == "component":
            path.append(str(self.id))
        elif self.scope == "namespace" and self.namespace:
            path.append(self.namespace)
        return path

    def scoped_name(self, name):
        return self.separator.join(self.scope_path() + [name])

    def scoped_prefix(self):
        return self.separator.join(self.scope_path()) + self.separator

    def unscoped_name(self, name):
        path = name.split(self.separator)
        secret_name, path = path[-1], path[:-1]
        if not secret_name or path != self.scope_path():
            return None
        return secret_name

    def scope_metadata(self, secret_name=None):
        if self.scope == "none":
            return {}
        metadata = {"zenml_scope": self.scope}
        if secret_name:
            metadata[ZENML_SECRET_NAME_LABEL] = secret_name
        if self.scope == "namespace" and self.namespace:
            metadata["zenml_namespace"] = self.namespace
        if self.scope == "component":
            metadata["zenml_component_uuid"] = str(self.id)
        return metadata

    def secret_metadata(self, secret_name, schema):
        if self.scope == "none":
            return {}
        metadata = self.scope_metadata(secret_name)
        metadata.update(
            {
                "zenml_component_name": self.name,
                "zenml_component_uuid": str(self.id),
                "zenml_secret_schema": schema,
            }
        )
        return metadata


def secret_to_dict(secret):
    contents = dict(secret["content"])
    contents[ZENML_SCHEMA_NAME] = secret["schema"]
    return contents


def secret_from_dict(secret_dict, name):
    contents = dict(secret_dict)
    schema = contents.pop(ZENML_SCHEMA_NAME)
    # The schema class of that name takes the rest as its fields; unset
    # optional fields come back as None.
    return {
        "name": name,
        "schema": schema,
        "content": {k: v for k, v in contents.items() if v is not None},
    }


def not_found(name):
    print(f"KeyError: Can't find the specified secret '{name}'", file=sys.stderr)
    sys.exit(3)


class Aws:
    """ZenML's AWSSecretsManager (boto3)."""

    def __init__(self, config):
        import boto3

        self.scope = Scope(config, "/")
        self.client = boto3.session.Session().client(
            service_name="secretsmanager",
            region_name=config.get("region", os.environ.get("AWS_REGION", "us-east-1")),
            endpoint_url=os.environ["KEYSTACK_TEST_AWS_ENDPOINT"],
        )

    def _scope_filters(self, secret_name=None):
        filters = []
        for k, v in self.scope.scope_metadata(secret_name).items():
            filters.append({"Key": "tag-key", "Values": [k]})
            filters.append({"Key": "tag-value", "Values": [str(v)]})
        return filters

    def _list_secrets(self, secret_name=None):
        prefix = None
        if self.scope.scope == "none":
            # ZenML sent [{"Key": "tag-key", "Values": ["!zenml_scope"]}],
            # which moto 5.2.5 inverts: the tags are checked below instead.
            filters = []
            if secret_name:
                prefix = secret_name
        else:
            filters = self._scope_filters()
            if secret_name:
                prefix = self.scope.scoped_name(secret_name)
            else:
                prefix = self.scope.scoped_prefix()
        if prefix:
            filters.append({"Key": "name", "Values": [prefix]})
        results = []
        paginator = self.client.get_paginator("list_secrets")
        for page in paginator.paginate(Filters=filters, PaginationConfig={"PageSize": 100}):
            for secret in page["SecretList"]:
                # What ZenML left to AWS's filters, checked here too (moto
                # inverts the `!` of a tag-key filter).
                tags = {t["Key"]: t["Value"] for t in secret.get("Tags", [])}
                if self.scope.scope == "none" and "zenml_scope" in tags:
                    continue
                if not self.scope.scope_metadata().items() <= tags.items():
                    continue
                name = self.scope.unscoped_name(secret["Name"])
                if name and (not secret_name or secret_name == name):
                    results.append(name)
        return results

    def register(self, secret):
        if self._list_secrets(secret["name"]):
            raise SystemExit(f"SecretExistsError: {secret['name']}")
        self.client.create_secret(
            Name=self.scope.scoped_name(secret["name"]),
            SecretString=json.dumps(secret_to_dict(secret)),
            Tags=[
                {"Key": k, "Value": v}
                for k, v in self.scope.secret_metadata(secret["name"], secret["schema"]).items()
            ],
        )

    def plant(self, secret):
        self.client.create_secret(
            Name=self.scope.scoped_name(secret["name"]),
            SecretString=json.dumps(secret_to_dict(secret)),
        )

    def get(self, name):
        if not self._list_secrets(name):
            not_found(name)
        response = self.client.get_secret_value(SecretId=self.scope.scoped_name(name))
        secret = secret_from_dict(json.loads(response["SecretString"]), name)
        described = self.client.describe_secret(SecretId=self.scope.scoped_name(name))
        secret["tags"] = {t["Key"]: t["Value"] for t in described.get("Tags", [])}
        return secret

    def list(self):
        return self._list_secrets()

    def update(self, secret):
        if not self._list_secrets(secret["name"]):
            not_found(secret["name"])
        self.client.put_secret_value(
            SecretId=self.scope.scoped_name(secret["name"]),
            SecretString=json.dumps(secret_to_dict(secret)),
        )

    def delete(self, name):
        if not self._list_secrets(name):
            not_found(name)
        self.client.delete_secret(
            SecretId=self.scope.scoped_name(name), ForceDeleteWithoutRecovery=True
        )


class Gcp:
    """ZenML's GCPSecretsManager (google-cloud-secret-manager), scoped."""

    def __init__(self, config):
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import secretmanager

        self.scope = Scope(config, "-")
        self.project = config["project"]
        self.client = secretmanager.SecretManagerServiceClient(
            transport="rest",
            client_options=ClientOptions(api_endpoint=os.environ["KEYSTACK_TEST_GCP_ENDPOINT"]),
            credentials=AnonymousCredentials(),
        )

    @property
    def parent_name(self):
        return f"projects/{self.project}"

    def _scope_filters(self, secret_name=None):
        metadata = self.scope.scope_metadata(secret_name)
        filters = [f"labels.{l}={v}" for (l, v) in metadata.items()]
        if secret_name:
            filters.append(f"name:{secret_name}")
        return " AND ".join(filters)

    def _list_secrets(self, secret_name=None):
        names = set()
        for secret in self.client.list_secrets(
            request={"parent": self.parent_name, "filter": self._scope_filters(secret_name)}
        ):
            # drongo ignores filters, which ZenML left to Google: the labels
            # are checked here too.
            if not self.scope.scope_metadata(secret_name).items() <= dict(secret.labels).items():
                continue
            name = secret.labels[ZENML_SECRET_NAME_LABEL]
            if name and (not secret_name or name == secret_name):
                names.add(name)
        return list(names)

    def register(self, secret):
        if self._list_secrets(secret["name"]):
            raise SystemExit(f"SecretExistsError: {secret['name']}")
        gcp_secret = self.client.create_secret(
            request={
                "parent": self.parent_name,
                "secret_id": self.scope.scoped_name(secret["name"]),
                "secret": {
                    "replication": {"automatic": {}},
                    "labels": list(
                        self.scope.secret_metadata(secret["name"], secret["schema"]).items()
                    ),
                },
            }
        )
        self.client.add_secret_version(
            request={
                "parent": gcp_secret.name,
                "payload": {"data": json.dumps(secret_to_dict(secret)).encode()},
            }
        )

    def plant(self, secret):
        gcp_secret = self.client.create_secret(
            request={
                "parent": self.parent_name,
                "secret_id": self.scope.scoped_name(secret["name"]),
                "secret": {"replication": {"automatic": {}}},
            }
        )
        self.client.add_secret_version(
            request={
                "parent": gcp_secret.name,
                "payload": {"data": json.dumps(secret_to_dict(secret)).encode()},
            }
        )

    def get(self, name):
        from google.api_core import exceptions as google_exceptions

        google_secret_name = self.client.secret_path(self.project, self.scope.scoped_name(name))
        try:
            google_secret = self.client.get_secret(name=google_secret_name)
        except google_exceptions.NotFound:
            not_found(name)
        scope_labels = self.scope.scope_metadata(name)
        if not scope_labels.items() <= dict(google_secret.labels).items():
            not_found(name)
        response = self.client.access_secret_version(name=f"{google_secret_name}/versions/latest")
        secret = secret_from_dict(json.loads(response.payload.data.decode("UTF-8")), name)
        secret["tags"] = dict(google_secret.labels)
        return secret

    def list(self):
        return self._list_secrets()

    def update(self, secret):
        if not self._list_secrets(secret["name"]):
            not_found(secret["name"])
        self.client.add_secret_version(
            request={
                "parent": self.client.secret_path(
                    self.project, self.scope.scoped_name(secret["name"])
                ),
                "payload": {"data": json.dumps(secret_to_dict(secret)).encode()},
            }
        )

    def delete(self, name):
        if not self._list_secrets(name):
            not_found(name)
        for secret in self.client.list_secrets(
            request={"parent": self.parent_name, "filter": self._scope_filters(name)}
        ):
            if self.scope.scope_metadata(name).items() <= dict(secret.labels).items():
                self.client.delete_secret(request={"name": secret.name})


class Azure:
    """ZenML's AzureSecretsManager (azure-keyvault-secrets), scoped."""

    def __init__(self, config):
        from azure.identity import ClientSecretCredential
        from azure.keyvault.secrets import SecretClient

        self.scope = Scope(config, "-")
        credential = ClientSecretCredential(
            os.environ["AZURE_TENANT_ID"],
            os.environ["AZURE_CLIENT_ID"],
            os.environ["AZURE_CLIENT_SECRET"],
            authority=os.environ["AZURE_AUTHORITY_HOST"],
            disable_instance_discovery=True,
        )
        self.client = SecretClient(
            os.environ["KEYSTACK_TEST_AZURE_VAULT_URL"],
            credential,
            verify_challenge_resource=False,
        )

    def _write(self, secret):
        azure_secret_name = self.scope.scoped_name(secret["name"])
        self.client.set_secret(azure_secret_name, json.dumps(secret_to_dict(secret)))
        self.client.update_secret_properties(
            azure_secret_name,
            tags=self.scope.secret_metadata(secret["name"], secret["schema"]),
        )

    def register(self, secret):
        if secret["name"] in self.list():
            raise SystemExit(f"SecretExistsError: {secret['name']}")
        self._write(secret)

    def plant(self, secret):
        self.client.set_secret(
            self.scope.scoped_name(secret["name"]), json.dumps(secret_to_dict(secret))
        )

    def get(self, name):
        from azure.core.exceptions import ResourceNotFoundError

        try:
            response = self.client.get_secret(self.scope.scoped_name(name))
        except ResourceNotFoundError:
            not_found(name)
        scope_tags = self.scope.scope_metadata(name)
        if not scope_tags.items() <= (response.properties.tags or {}).items():
            not_found(name)
        secret = secret_from_dict(json.loads(response.value), name)
        secret["tags"] = dict(response.properties.tags or {})
        return secret

    def list(self):
        names = set()
        for secret_property in self.client.list_properties_of_secrets():
            tags = secret_property.tags
            if not tags:
                continue
            if self.scope.scope_metadata().items() <= tags.items():
                names.add(tags.get(ZENML_SECRET_NAME_LABEL))
        return list(names)

    def update(self, secret):
        if secret["name"] not in self.list():
            not_found(secret["name"])
        self._write(secret)

    def delete(self, name):
        if name not in self.list():
            not_found(name)
        self.client.begin_delete_secret(self.scope.scoped_name(name)).result()


class Vault:
    """ZenML's VaultSecretsManager (hvac), KV v2."""

    def __init__(self, config):
        import hvac

        self.scope = Scope(config, "/")
        self.mount_point = config.get("mount_point", "secret")
        self.client = hvac.Client(
            url=os.environ["KEYSTACK_TEST_VAULT_ADDR"],
            token=os.environ["KEYSTACK_TEST_VAULT_TOKEN"],
        )
        assert self.client.is_authenticated()

    def register(self, secret):
        try:
            self.get(secret["name"], quiet=True)
            raise SystemExit(f"SecretExistsError: {secret['name']}")
        except KeyError:
            pass
        self.client.secrets.kv.v2.create_or_update_secret(
            path=self.scope.scoped_name(secret["name"]),
            mount_point=self.mount_point,
            secret=secret_to_dict(secret),
        )

    def get(self, name, quiet=False):
        from hvac.exceptions import InvalidPath

        try:
            items = (
                self.client.secrets.kv.v2.read_secret_version(
                    path=self.scope.scoped_name(name),
                    mount_point=self.mount_point,
                    raise_on_deleted_version=True,
                )
                .get("data", {})
                .get("data", {})
            )
        except InvalidPath:
            if quiet:
                raise KeyError(name)
            not_found(name)
        return secret_from_dict(items, name)

    def list(self):
        from hvac.exceptions import InvalidPath

        try:
            secrets = self.client.secrets.kv.v2.list_secrets(
                path="/".join(self.scope.scope_path()), mount_point=self.mount_point
            )
        except InvalidPath:
            return []
        return [k for k in secrets.get("data", {}).get("keys", []) if "/" not in k]

    def update(self, secret):
        if secret["name"] not in self.list():
            not_found(secret["name"])
        self.client.secrets.kv.v2.create_or_update_secret(
            path=self.scope.scoped_name(secret["name"]),
            mount_point=self.mount_point,
            secret=secret_to_dict(secret),
        )

    def delete(self, name):
        self.client.secrets.kv.v2.delete_metadata_and_all_versions(
            path=self.scope.scoped_name(name), mount_point=self.mount_point
        )


def main():
    backend, action, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    manager = {"aws": Aws, "gcp": Gcp, "azure": Azure, "vault": Vault}[backend](args)
    if action in ("register", "update", "plant"):
        getattr(manager, action)(args["secret"])
        answer = "ok"
    elif action in ("get", "delete"):
        answer = getattr(manager, action)(args["name"]) or "ok"
    elif action == "list":
        answer = sorted(manager.list())
    elif action == "delete_all":
        # ZenML's `delete_all_secrets`: every secret of the scope.
        for name in manager.list():
            manager.delete(name)
        answer = "ok"
    else:
        raise SystemExit(f"unknown action {action}")
    print(json.dumps(answer, sort_keys=True))


if __name__ == "__main__":
    main()
