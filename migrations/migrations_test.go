package migrations

import (
	"errors"
	"testing"
)

// Both dialects must describe the same schema history, version for version.
func TestDialectsHaveSameVersions(t *testing.T) {
	pg, err := Load(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	lite, err := Load(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) == 0 {
		t.Fatal("no migrations")
	}
	if len(pg) != len(lite) {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Version != lite[i].Version || pg[i].Name != lite[i].Name {
			t.Errorf("migration %d: postgres %04d_%s, sqlite %04d_%s", i, pg[i].Version, pg[i].Name, lite[i].Version, lite[i].Name)
		}
		if pg[i].Version != i+1 {
			t.Errorf("postgres migration %d has version %d: versions must be contiguous from 1", i, pg[i].Version)
		}
	}
}

func TestPending(t *testing.T) {
	ms := []Migration{{Version: 1}, {Version: 2}, {Version: 3}}
	got, err := Pending(ms, 1, 3)
	if err != nil || len(got) != 2 || got[0].Version != 2 {
		t.Fatalf("Pending(1,3) = %v, %v", got, err)
	}
	if got, err := Pending(ms, 3, 3); err != nil || len(got) != 0 {
		t.Fatalf("Pending(3,3) = %v, %v", got, err)
	}
	if _, err := Pending(ms, 4, 3); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("database ahead of binary: err = %v, want ErrSchemaTooNew", err)
	}
	if _, err := Pending(ms, 0, 9); err == nil {
		t.Fatal("target beyond the latest version accepted")
	}
}
