-- People. IDs are random and never reused; usernames are stored normalised
-- (NFKC, case-folded) by package accounts, so a plain unique index suffices.
-- Times are Unix microseconds; lists are JSON arrays.
CREATE TABLE accounts (
    id                   TEXT PRIMARY KEY NOT NULL,
    username             TEXT NOT NULL,
    email                TEXT NOT NULL DEFAULT '',
    email_verified       INTEGER NOT NULL DEFAULT 0,
    phone                TEXT NOT NULL DEFAULT '',
    phone_verified       INTEGER NOT NULL DEFAULT 0,
    kind                 TEXT NOT NULL CHECK (kind IN ('citizen', 'compatriot', 'foreign_national')),
    given_name           TEXT NOT NULL DEFAULT '',
    family_name          TEXT NOT NULL DEFAULT '',
    middle_name          TEXT NOT NULL DEFAULT '',
    given_name_latin     TEXT NOT NULL DEFAULT '',
    family_name_latin    TEXT NOT NULL DEFAULT '',
    middle_name_latin    TEXT NOT NULL DEFAULT '',
    birthdate            TEXT NOT NULL DEFAULT '',
    citizenships         TEXT NOT NULL DEFAULT '[]',
    country_of_residence TEXT NOT NULL DEFAULT '',
    locale               TEXT NOT NULL DEFAULT '',
    assurance            TEXT NOT NULL DEFAULT 'simplified' CHECK (assurance IN ('simplified', 'standard', 'confirmed')),
    password_hash        TEXT NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    disabled_at          INTEGER
) STRICT;

CREATE UNIQUE INDEX accounts_username_key ON accounts (username);
