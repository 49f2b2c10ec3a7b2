package main

import (
	"strings"
	"testing"
)

// TestSubcommandTables: the usage line and the messages that name a
// group's subcommands come from its table, word for word what they were
// when each was written by hand; every row is listed by <group> -h and
// dispatched, with the common flags.
func TestSubcommandTables(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PROPUSK_DATA_DIR": t.TempDir()}
	stdout, stderr, code := runCLI(t, env, "", "help")
	wantOK(t, code, stdout, stderr)
	for _, line := range []string{
		"  clients      manage relying parties: create, list, show, delete, rotate-secret\n",
		"  keys         manage token-signing keys: list, rotate\n",
		"  secrets-key  print a new random secrets key (for PROPUSK_SECRETS_KEY); reseal: re-seal everything with the first key\n",
		"  users        manage accounts: create, list, show, update, disable, set-password, reset-mfa, unlock (password and second-factor lock-outs)\n",
	} {
		if !strings.Contains(stdout, line) {
			t.Errorf("propusk help lacks %q:\n%s", line, stdout)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"users"}, "propusk users: missing subcommand: create, list, show, update, disable or set-password (second factor: reset-mfa; lock-outs of password and second factor: unlock)\n"},
		{[]string{"users", "frob"}, `propusk users: unknown subcommand "frob": want create, list, show, update, disable, set-password, reset-mfa or unlock` + "\n"},
		{[]string{"clients"}, "propusk clients: missing subcommand: create, list, show, delete or rotate-secret\n"},
		{[]string{"clients", "frob"}, `propusk clients: unknown subcommand "frob": want create, list, show, delete or rotate-secret` + "\n"},
		{[]string{"keys"}, "propusk keys: missing subcommand: list or rotate\n"},
		{[]string{"keys", "frob"}, `propusk keys: unknown subcommand "frob": want list or rotate` + "\n"},
		{[]string{"secrets-key", "frob"}, "propusk secrets-key: takes no arguments (or: reseal)\n"},
	} {
		_, stderr, code := runCLI(t, env, "", tc.args...)
		if code != exitUsage || stderr != tc.want {
			t.Errorf("propusk %s: exit %d, stderr %q; want 2, %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	for _, g := range []*group{&usersCommands, &clientsCommands, &keysCommands, &secretsKeyCommands} {
		stdout, stderr, code := runCLI(t, env, "", g.name, "-h")
		wantOK(t, code, stdout, stderr)
		for _, s := range g.subs {
			if !strings.Contains(stdout, "  "+s.name+"  ") || !strings.Contains(stdout, s.help) {
				t.Errorf("propusk %s -h does not list %s (%q):\n%s", g.name, s.name, s.help, stdout)
			}
			stdout, stderr, code := runCLI(t, env, "", g.name, s.name, "-h")
			wantOK(t, code, stdout, stderr)
			for _, f := range []string{"-json", "-database", "PROPUSK_DATA_DIR"} {
				if !strings.Contains(stdout, f) {
					t.Errorf("propusk %s %s -h does not describe %s:\n%s", g.name, s.name, f, stdout)
				}
			}
		}
	}
	emptyDir(t, env["PROPUSK_DATA_DIR"])
}
