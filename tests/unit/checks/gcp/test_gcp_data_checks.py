"""GCP data-service checks: Cloud Storage, Cloud SQL (network, TLS, backups, flags), KMS, API keys, contacts."""

from __future__ import annotations

from typing import Any

import pytest
from gcp_check_fixtures import (
    ERROR,
    FAIL,
    NA,
    PASS,
    Case,
    ago,
    bucket,
    case,
    listing_failed,
    project,
    res,
    run,
    sqli,
)

from agent.models import Resource
from checks.gcp import apikeys, contacts, kms, sql, sql_flags, storage

PG_GOOD = {"log_connections": "on", "log_disconnections": "on", "log_statement": "ddl", "cloudsql.enable_pgaudit": "on"}


def key(**attrs: Any) -> Resource:
    return res("gcp.apikeys.key", "k", **{"displayName": "web", "createTime": ago(10), **attrs})


def contact(email: str, *categories: str, state: str = "VALID", account: str = "shop-prod") -> Resource:
    return res(
        "gcp.essentialcontacts.contact",
        email,
        account=account,
        email=email,
        validationState=state,
        notificationCategorySubscriptions=list(categories),
    )


def inherited(email: str, *categories: str, state: str = "VALID") -> dict[str, Any]:
    return {
        "email": email,
        "notificationCategorySubscriptions": list(categories),
        "validationState": state,
        "_ancestor": "organizations/3",
    }


CASES = [
    # storage --------------------------------------------------------------------------------------------
    case(storage.bucket_not_public, bucket(members=["allUsers"]), FAIL, "allUsers", id="public"),
    case(storage.bucket_not_public, bucket(members=["allUsers"], pap="enforced"), PASS, "enforces", id="pap"),
    case(storage.bucket_not_public, bucket(members=["user:a@x.com"]), PASS, id="private"),
    case(storage.bucket_not_public, bucket(errors={"iamPolicy": "ListAssets IAM_POLICY failed"}), ERROR, id="error"),
    case(
        storage.bucket_not_public,
        bucket(members=["allAuthenticatedUsers"], pap="inherited"),
        FAIL,
        id="pap-inherited",
        looks_fine="publicAccessPrevention 'inherited' sounds protective but enforces nothing",
    ),
    case(storage.bucket_uniform_access, bucket(ubla=True), PASS, id="pass"),
    case(storage.bucket_uniform_access, bucket(ubla=False), FAIL, "ACLs", id="fail"),
    case(storage.bucket_uniform_access, bucket(errors={"iamConfiguration": "x"}), ERROR, id="error"),
    case(
        storage.bucket_uniform_access,
        bucket(ubla=False, pap="enforced"),
        FAIL,
        id="pap-but-acls",
        looks_fine="public access prevention is enforced, yet object ACLs still decide who reads what",
    ),
    # Cloud SQL --------------------------------------------------------------------------------------------
    case(sql.instance_no_public_ip, sqli({"ipv4Enabled": False}), PASS, id="pass"),
    case(
        sql.instance_no_public_ip,
        sqli({"ipv4Enabled": True, "authorizedNetworks": [{"value": "0.0.0.0/0"}]}),
        FAIL,
        "0.0.0.0/0",
        id="world",
    ),
    case(
        sql.instance_no_public_ip,
        sqli({"ipv4Enabled": True}),
        FAIL,
        "public IP",
        id="public",
        looks_fine="no authorized network is listed, but the instance still has a public address",
    ),
    case(sql.instance_no_public_ip, res("gcp.sqladmin.instance", "db", errors={"settings": "x"}), ERROR, id="error"),
    case(sql.instance_ssl_required, sqli({"sslMode": "ENCRYPTED_ONLY"}), PASS, id="pass"),
    case(sql.instance_ssl_required, sqli({"requireSsl": True}), PASS, id="legacy"),
    case(
        sql.instance_ssl_required, sqli({"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}), FAIL, "unencrypted", id="fail"
    ),
    case(
        sql.instance_ssl_required,
        sqli({"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED", "requireSsl": True}),
        FAIL,
        id="mode-wins",
        looks_fine="requireSsl is true, but sslMode (which takes precedence) allows plain text",
    ),
    case(sql.instance_ssl_required, res("gcp.sqladmin.instance", "db", errors={"settings": "x"}), ERROR, id="error"),
    case(sql.instance_backups_enabled, sqli(backup={"enabled": True}), PASS, id="pass"),
    case(sql.instance_backups_enabled, sqli(backup={"enabled": False}), FAIL, "off", id="fail"),
    case(
        sql.instance_backups_enabled,
        sqli(backup={"pointInTimeRecoveryEnabled": True}),
        FAIL,
        id="pitr-only",
        looks_fine="point-in-time recovery is on, but automated backups (which it relies on) are off",
    ),
    case(sql.instance_backups_enabled, res("gcp.sqladmin.instance", "db", errors={"settings": "x"}), ERROR, id="error"),
    # database flags ------------------------------------------------------------------------------------------
    case(sql_flags.postgres_logging_flags, sqli(flags=PG_GOOD), PASS, id="pass"),
    case(sql_flags.postgres_logging_flags, sqli(), FAIL, "log_connections is not set (default 'off')", id="no-flags"),
    case(
        sql_flags.postgres_logging_flags,
        sqli(flags={**PG_GOOD, "log_min_messages": "panic"}),
        FAIL,
        "log_min_messages is 'panic'",
        id="min-messages-panic",
        looks_fine="log_min_messages is set, but PANIC drops every error message",
    ),
    case(
        sql_flags.postgres_logging_flags,
        sqli(flags={**PG_GOOD, "log_statement": "none"}),
        FAIL,
        "log_statement",
        id="statement-none",
    ),
    case(
        sql_flags.postgres_logging_flags,
        sqli(flags={**PG_GOOD, "log_min_duration_statement": "0"}),
        FAIL,
        "log_min_duration_statement",
        id="durations",
        looks_fine="logging every statement's duration sounds thorough but writes query text, and its data, "
        "to the logs",
    ),
    case(sql_flags.postgres_logging_flags, sqli(flags={**PG_GOOD, "log_connections": "ON"}), PASS, id="case"),
    case(sql_flags.postgres_logging_flags, sqli(version="MYSQL_8_0"), NA, id="other-engine"),
    case(
        sql_flags.postgres_logging_flags,
        res("gcp.sqladmin.instance", "db", errors={"databaseVersion": "x"}),
        ERROR,
        id="error",
    ),
    case(
        sql_flags.mysql_security_flags,
        sqli(version="MYSQL_8_0", flags={"local_infile": "off", "skip_show_database": "on"}),
        PASS,
        id="pass",
    ),
    case(
        sql_flags.mysql_security_flags,
        sqli(version="MYSQL_8_0", flags={"skip_show_database": "on"}),
        FAIL,
        "local_infile is not set (default 'on')",
        id="default-infile",
        looks_fine="no risky flag is set, but local_infile is on by default",
    ),
    case(sql_flags.mysql_security_flags, sqli(version="MYSQL_5_7", flags={}), FAIL, "skip_show_database", id="fail"),
    case(sql_flags.mysql_security_flags, sqli(version="POSTGRES_15"), NA, id="other-engine"),
    case(
        sql_flags.mysql_security_flags,
        res("gcp.sqladmin.instance", "db", databaseVersion="MYSQL_8_0", errors={"settings": "x"}),
        ERROR,
        id="error",
    ),
    case(
        sql_flags.sqlserver_security_flags,
        sqli(version="SQLSERVER_2019_STANDARD", flags={"remote access": "off", "3625": "on"}),
        PASS,
        id="pass",
    ),
    case(
        sql_flags.sqlserver_security_flags,
        sqli(version="SQLSERVER_2019_STANDARD", flags={}),
        FAIL,
        "remote access is not set (default 'on')",
        id="defaults",
        looks_fine="no flag is set at all, but SQL Server's remote access is on by default",
    ),
    case(
        sql_flags.sqlserver_security_flags,
        sqli(
            version="SQLSERVER_2022_ENTERPRISE", flags={"remote access": "off", "3625": "on", "user connections": "10"}
        ),
        FAIL,
        "user connections",
        id="limit",
    ),
    case(
        sql_flags.sqlserver_security_flags,
        res("gcp.sqladmin.instance", "db", databaseVersion="SQLSERVER_2019_WEB", errors={"settings": "x"}),
        ERROR,
        id="error",
    ),
    # KMS ----------------------------------------------------------------------------------------------------------
    case(
        kms.key_rotation_90d,
        res("gcp.cloudkms.crypto_key", "k", purpose="ENCRYPT_DECRYPT", rotationPeriod="7776000s"),
        PASS,
        "90 days",
        id="pass",
    ),
    case(
        kms.key_rotation_90d,
        res("gcp.cloudkms.crypto_key", "k", purpose="ENCRYPT_DECRYPT", rotationPeriod="31536000s"),
        FAIL,
        "365 days",
        id="slow",
        looks_fine="automatic rotation is configured, but only once a year",
    ),
    case(
        kms.key_rotation_90d,
        res("gcp.cloudkms.crypto_key", "k", purpose="ENCRYPT_DECRYPT"),
        FAIL,
        "no automatic rotation",
        id="none",
    ),
    case(kms.key_rotation_90d, res("gcp.cloudkms.crypto_key", "k", purpose="ASYMMETRIC_SIGN"), NA, id="asym"),
    case(
        kms.key_rotation_90d,
        res("gcp.cloudkms.crypto_key", "k", purpose="ENCRYPT_DECRYPT", rotationPeriod="soon"),
        ERROR,
        id="error",
    ),
    # API keys ------------------------------------------------------------------------------------------------------
    case(
        apikeys.key_application_restricted,
        key(restrictions={"browserKeyRestrictions": {"allowedReferrers": ["https://shop.example.com/*"]}}),
        PASS,
        id="pass",
    ),
    case(apikeys.key_application_restricted, key(), FAIL, "no application restriction", id="fail"),
    case(
        apikeys.key_application_restricted,
        key(restrictions={"apiTargets": [{"service": "maps.googleapis.com"}]}),
        FAIL,
        "no application restriction",
        id="api-only",
        looks_fine="the key has restrictions, but only on APIs: any caller can use it",
    ),
    case(
        apikeys.key_application_restricted,
        key(restrictions={"browserKeyRestrictions": {"allowedReferrers": ["*.com/*"]}}),
        FAIL,
        "*.com/*",
        id="wildcard-referrer",
        looks_fine="an HTTP referrer restriction is set, but *.com matches any site",
    ),
    case(
        apikeys.key_application_restricted,
        key(restrictions={"serverKeyRestrictions": {"allowedIps": ["0.0.0.0/0"]}}),
        FAIL,
        "0.0.0.0/0",
        id="any-ip",
    ),
    case(
        apikeys.key_application_restricted, res("gcp.apikeys.key", "k", errors={"restrictions": "x"}), ERROR, id="error"
    ),
    case(
        apikeys.key_api_restricted,
        key(restrictions={"apiTargets": [{"service": "translate.googleapis.com"}]}),
        PASS,
        "translate",
        id="pass",
    ),
    case(apikeys.key_api_restricted, key(), FAIL, "every API", id="fail"),
    case(
        apikeys.key_api_restricted,
        key(restrictions={"apiTargets": [{"service": "cloudapis.googleapis.com"}]}),
        FAIL,
        "every Google Cloud API",
        id="cloudapis",
        looks_fine="an API restriction is set, but to cloudapis.googleapis.com, which is all of them",
    ),
    case(apikeys.key_api_restricted, res("gcp.apikeys.key", "k", errors={"restrictions": "x"}), ERROR, id="error"),
    case(apikeys.key_rotated_90d, key(), PASS, id="pass"),
    case(
        apikeys.key_rotated_90d,
        key(createTime=ago(400)),
        FAIL,
        "created on 2024-04-27, more than 90 days ago",
        id="fail",
    ),
    case(
        apikeys.key_rotated_90d,
        key(createTime=ago(400), updateTime=ago(1)),
        FAIL,
        id="recently-updated",
        looks_fine="the key was updated yesterday, but its secret is the one created 400 days ago",
    ),
    case(apikeys.key_rotated_90d, res("gcp.apikeys.key", "k"), ERROR, "createTime", id="error"),
    # essential contacts ----------------------------------------------------------------------------------------------
    case(
        contacts.contacts_configured, [project(), contact("ops@x.com", "ALL")], PASS, "SECURITY to ops@x.com", id="pass"
    ),
    case(
        contacts.contacts_configured,
        project(
            ancestorEssentialContacts=[
                inherited("sec@x.com", "SECURITY", "TECHNICAL"),
                inherited("legal@x.com", "LEGAL", "SUSPENSION"),
            ]
        ),
        PASS,
        id="inherited",
    ),
    case(
        contacts.contacts_configured,
        [project(), contact("sec@x.com", "SECURITY", "TECHNICAL")],
        FAIL,
        "LEGAL, SUSPENSION",
        id="fail",
    ),
    case(
        contacts.contacts_configured,
        [project(), contact("ops@x.com", "ALL", state="INVALID")],
        FAIL,
        id="invalid-address",
        looks_fine="a contact subscribed to ALL exists, but its address failed validation",
    ),
    case(
        contacts.contacts_configured,
        [project(), contact("ops@x.com", "BILLING", "PRODUCT_UPDATES", "TECHNICAL_INCIDENTS")],
        FAIL,
        "SECURITY",
        id="other-categories",
        looks_fine="there are contacts, but for billing and product updates",
    ),
    case(
        contacts.contacts_configured,
        project(errors={"ancestorEssentialContacts": "denied"}),
        ERROR,
        "denied",
        id="error",
    ),
    case(
        contacts.contacts_configured,
        [project(), contact("ops@x.com", "ALL")],
        ERROR,
        id="listing-failed",
        errors=listing_failed("gcp.essentialcontacts.contact"),
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    run(c)
