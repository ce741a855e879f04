-- Issue 15, SPEC §9: the algorithm a client's ID tokens are signed with
-- (id_token_signed_response_alg); empty: the server's default.
ALTER TABLE oidc_clients ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT '';
