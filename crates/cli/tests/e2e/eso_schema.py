"""Validates External Secrets manifests against the operator's CRD schemas.

    python eso_schema.py CRD_DIR < manifests.yaml

Each document of the YAML stream on standard input is checked against the
`openAPIV3Schema` of version `v1` of the CRD of its kind (jsonschema; the
`x-kubernetes-*` extensions are annotations to it). Prints one line per
document; exits 1 if any does not fit.
"""

import os
import sys

import jsonschema
import yaml

FILES = {
    "ExternalSecret": "external-secrets.io_externalsecrets.yaml",
    "SecretStore": "external-secrets.io_secretstores.yaml",
}


def schema(crd_dir, kind):
    with open(os.path.join(crd_dir, FILES[kind])) as f:
        crd = yaml.safe_load(f)
    assert crd["spec"]["names"]["kind"] == kind, crd["spec"]["names"]
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    assert version["served"], "v1 is served"
    return version["schema"]["openAPIV3Schema"]


def main():
    crd_dir = sys.argv[1]
    failed = False
    for document in yaml.safe_load_all(sys.stdin):
        kind = document["kind"]
        assert document["apiVersion"] == "external-secrets.io/v1", document["apiVersion"]
        validator = jsonschema.Draft7Validator(schema(crd_dir, kind))
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        for error in errors:
            failed = True
            path = "/".join(str(p) for p in error.path)
            print(f"{kind} {document['metadata']['name']}: {path}: {error.message}")
        if not errors:
            print(f"{kind} {document['metadata']['name']}: ok")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
