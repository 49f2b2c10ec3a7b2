-- People. IDs are random and never reused; usernames are stored normalised
-- (NFKC, case-folded) by package accounts, so a plain unique index suffices.
CREATE TABLE accounts (
    id                   text PRIMARY KEY,
    username             text NOT NULL,
    email                text NOT NULL DEFAULT '',
    email_verified       boolean NOT NULL DEFAULT false,
    phone                text NOT NULL DEFAULT '',
    phone_verified       boolean NOT NULL DEFAULT false,
    kind                 text NOT NULL CHECK (kind IN ('citizen', 'compatriot', 'foreign_national')),
    given_name           text NOT NULL DEFAULT '',
    family_name          text NOT NULL DEFAULT '',
    middle_name          text NOT NULL DEFAULT '',
    given_name_latin     text NOT NULL DEFAULT '',
    family_name_latin    text NOT NULL DEFAULT '',
    middle_name_latin    text NOT NULL DEFAULT '',
    birthdate            text NOT NULL DEFAULT '',
    citizenships         text[] NOT NULL DEFAULT '{}',
    country_of_residence text NOT NULL DEFAULT '',
    locale               text NOT NULL DEFAULT '',
    assurance            text NOT NULL DEFAULT 'simplified' CHECK (assurance IN ('simplified', 'standard', 'confirmed')),
    password_hash        text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    disabled_at          timestamptz
);

CREATE UNIQUE INDEX accounts_username_key ON accounts (username);
