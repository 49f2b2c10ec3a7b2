-- Flows without a relying party: Propusk's own pages (the account page)
-- send a person through the same sign-in and second-factor steps, then
-- back to return_to, a local path.
ALTER TABLE flows ALTER COLUMN client_id DROP NOT NULL;
ALTER TABLE flows ADD COLUMN return_to text NOT NULL DEFAULT '';
