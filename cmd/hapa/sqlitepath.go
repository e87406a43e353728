package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// sqliteTarget is the file a sqlite:// DATABASE_URL names, resolved the way store.Open
// resolves it (SQLAlchemy's rule, README "Configuration"): sqlite:///rel/hapa.db is
// relative to the working directory, sqlite:////abs/hapa.db (four slashes) is absolute.
type sqliteTarget struct {
	URL      string // as configured
	Path     string // as store.Open sees it: "rel/hapa.db" or "/abs/hapa.db"
	Abs      string // absolute path of the file
	Relative bool   // three slashes
	Warning  string // a three-slash path that looks meant as absolute; "" otherwise
}

// resolveSQLite returns the SQLite file of dbURL, or ok=false for PostgreSQL and
// sqlite://:memory:.
func resolveSQLite(dbURL string) (t sqliteTarget, ok bool, err error) {
	if !strings.HasPrefix(dbURL, "sqlite:") {
		return t, false, nil
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite:"), "//")
	p, _, _ := strings.Cut(rest, "?")
	if p == ":memory:" || p == "/:memory:" {
		return t, false, nil
	}
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return t, false, fmt.Errorf("DATABASE_URL: %q has no file path (want sqlite:////absolute/path.db or sqlite:///relative/path.db)", dbURL)
	}
	t = sqliteTarget{URL: dbURL, Path: p, Relative: !filepath.IsAbs(p)}
	t.Abs, err = filepath.Abs(p)
	if err != nil {
		return t, false, fmt.Errorf("DATABASE_URL: resolve %s: %w", p, err)
	}
	if t.Relative && looksAbsolute(p, t.Abs) {
		t.Warning = fmt.Sprintf("DATABASE_URL %s is relative to the working directory (three slashes) and opens %s; "+
			"for /%s write sqlite:////%s (four slashes)", dbURL, t.Abs, p, p)
	}
	return t, true, nil
}

// looksAbsolute reports whether a relative path was probably meant as an absolute one:
// its first element names a directory at the file system's root (var/…, tmp/…, data/…
// where /var, /tmp, /data exist) and the working directory is not the root itself.
func looksAbsolute(rel, abs string) bool {
	if strings.HasPrefix(rel, ".") {
		return false // ./data/hapa.db, ../x.db: clearly relative
	}
	first, _, found := strings.Cut(filepath.ToSlash(rel), "/")
	if !found || abs == filepath.Join(string(filepath.Separator), rel) {
		return false
	}
	fi, err := os.Stat(filepath.Join(string(filepath.Separator), first))
	return err == nil && fi.IsDir()
}

// checkSQLiteDir fails with one line when the file's directory cannot hold the
// database. An absolute path's directory must exist (in a container it is the mounted
// volume: creating it would put the database in the container's throw-away layer); a
// relative one is created as before (`make run`'s ./data). SQLite also writes its
// -wal and -shm files beside the database, so the directory must be writable.
func checkSQLiteDir(t sqliteTarget) error {
	dir := filepath.Dir(t.Abs)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && t.Relative:
		return nil // store.Open creates it
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("DATABASE_URL: the directory %s of the SQLite file %s does not exist (create it or mount a volume there)", dir, t.Abs)
	case err != nil:
		return fmt.Errorf("DATABASE_URL: the directory of the SQLite file %s: %w", t.Abs, errors.Unwrap(err))
	case !fi.IsDir():
		return fmt.Errorf("DATABASE_URL: %s, the directory of the SQLite file %s, is not a directory", dir, t.Abs)
	}
	f, err := os.CreateTemp(dir, ".hapa-write-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("DATABASE_URL: the directory %s of the SQLite file %s is not writable by this user (%v)", dir, t.Abs, err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// prepareSQLite runs before store.Open for serve and migrate: it reports the absolute
// file that will be opened (and the warning of a probably mistaken relative path)
// through report, and checks its directory. PostgreSQL and :memory: pass untouched.
func prepareSQLite(dbURL string, report func(t sqliteTarget)) error {
	t, ok, err := resolveSQLite(dbURL)
	if err != nil || !ok {
		return err
	}
	report(t)
	return checkSQLiteDir(t)
}
