package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func init() {
	scenarios["7"] = scenario{name: "PostgreSQL stopped, then frozen (SIGSTOP): time to 503 (goal < 1 s) and to recovery", run: databaseOutages}
}

// databaseOutages runs a PostgreSQL of its own (initdb and pg_ctl in a
// temporary directory, on a free loopback port; never the shared one),
// serves Callboard on it, then stops the database and later freezes it,
// timing how long a request takes to be answered 503 and how long the
// service takes to answer 200 again once the database is back.
func databaseOutages(ctx context.Context, env *environment) error {
	pg, err := startPostgres(ctx, env.workDir)
	if err != nil {
		return err
	}
	defer pg.destroy()
	s, err := env.startServer(ctx, map[string]string{"CALLBOARD_DATABASE_URL": pg.url})
	if err != nil {
		return err
	}
	defer s.stop()
	_, token, err := register(ctx, s.base, "outage@example.com")
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	profile := func() answer { return call(ctx, client, "GET", s.base+"/api/dashboard/user/profile/", token, nil) }
	if a := profile(); a.status != 200 {
		return fmt.Errorf("healthy profile: %d %v", a.status, a.err)
	}
	var missed []string

	// Stopped: connections are cut and new ones refused.
	if err := pg.ctl("stop", "-m", "fast"); err != nil {
		return err
	}
	stopped := time.Now()
	first := profile()
	fmt.Printf("   stopped: first request answered %d in %s (%s after the stop)\n", first.status, first.took.Round(time.Millisecond), time.Since(stopped).Round(time.Millisecond))
	if first.status != 503 || first.took >= time.Second {
		missed = append(missed, "503 within 1 s of a stop")
	}
	burst := timeBurst(profile, 10)
	fmt.Printf("   stopped: next %d requests %s, slowest %s\n", len(burst.answers), statusCounts(burst.answers), burst.slowest.Round(time.Millisecond))
	if err := pg.ctl("start", "-w"); err != nil {
		return err
	}
	recovered, ok := untilOK(profile, 30*time.Second)
	fmt.Printf("   restarted: 200 again %s after PostgreSQL accepted connections (ok: %v)\n", recovered.Round(time.Millisecond), ok)
	if !ok {
		missed = append(missed, "recovery after a restart")
	}

	// Frozen: every PostgreSQL process is stopped with SIGSTOP; connections
	// stay open and nothing answers.
	if a := profile(); a.status != 200 {
		return fmt.Errorf("profile before the freeze: %d", a.status)
	}
	if err := pg.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	frozen := time.Now()
	first = profile()
	fmt.Printf("   frozen: first request answered %d in %s\n", first.status, first.took.Round(time.Millisecond))
	if first.status != 503 || time.Since(frozen) >= time.Second {
		missed = append(missed, "503 within 1 s of a freeze")
	}
	burst = timeBurst(profile, 10)
	fmt.Printf("   frozen: next %d requests %s, slowest %s\n", len(burst.answers), statusCounts(burst.answers), burst.slowest.Round(time.Millisecond))
	time.Sleep(3 * time.Second) // a longer freeze
	if err := pg.signal(syscall.SIGCONT); err != nil {
		return err
	}
	frozenFor := time.Since(frozen)
	recovered, ok = untilOK(profile, 30*time.Second)
	fmt.Printf("   thawed after %s: 200 again %s after SIGCONT (ok: %v)\n", frozenFor.Round(time.Millisecond), recovered.Round(time.Millisecond), ok)
	if !ok {
		missed = append(missed, "recovery after a freeze")
	}
	if len(missed) > 0 {
		return fmt.Errorf("%w: %s", errGoalMissed, strings.Join(missed, "; "))
	}
	return nil
}

type burstResult struct {
	answers []answer
	slowest time.Duration
}

func timeBurst(f func() answer, n int) burstResult {
	var r burstResult
	for range n {
		a := f()
		r.answers = append(r.answers, a)
		r.slowest = max(r.slowest, a.took)
	}
	return r
}

// untilOK repeats f until it answers 200 and says how long that took.
func untilOK(f func() answer, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < limit {
		if f().status == 200 {
			return time.Since(start), true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start), false
}

// postgres is a throwaway cluster.
type postgres struct {
	bin, dir, url string
	runAs         *user.User // initdb refuses to run as root
}

func startPostgres(ctx context.Context, workDir string) (*postgres, error) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			bins = []string{p}
		} else {
			return nil, errors.New("no pg_ctl found")
		}
	}
	pg := &postgres{bin: filepath.Dir(bins[len(bins)-1]), dir: filepath.Join(workDir, "pg")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres user for initdb: %w", err)
		}
		pg.runAs = u
	}
	if err := os.MkdirAll(pg.dir, 0o700); err != nil {
		return nil, err
	}
	if pg.runAs != nil {
		uid, _ := strconv.Atoi(pg.runAs.Uid)
		gid, _ := strconv.Atoi(pg.runAs.Gid)
		_ = os.Chown(workDir, uid, gid)
		if err := os.Chown(pg.dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := pg.command(ctx, "initdb", "-D", pg.dir, "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nfsync = off\n", port, pg.dir)
	f, err := os.OpenFile(filepath.Join(pg.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(conf); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	pg.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := pg.ctl("start", "-w"); err != nil {
		return nil, err
	}
	return pg, nil
}

func (pg *postgres) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(pg.bin, name), args...)
	if pg.runAs != nil {
		uid, _ := strconv.Atoi(pg.runAs.Uid)
		gid, _ := strconv.Atoi(pg.runAs.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	return cmd
}

func (pg *postgres) ctl(args ...string) error {
	full := append([]string{"-D", pg.dir, "-l", filepath.Join(pg.dir, "log")}, args...)
	if out, err := pg.command(context.Background(), "pg_ctl", full...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// signal sends sig to the cluster's postmaster and every process it started
// (found through /proc by parent id, never by name).
func (pg *postgres) signal(sig syscall.Signal) error {
	raw, err := os.ReadFile(filepath.Join(pg.dir, "postmaster.pid"))
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return fmt.Errorf("postmaster.pid: %w", err)
	}
	pids := []int{pid}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after ")".
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			pids = append(pids, child)
		}
	}
	for _, p := range pids {
		if err := syscall.Kill(p, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return err
		}
	}
	return nil
}

// destroy thaws and stops the cluster; its directory goes with workDir.
func (pg *postgres) destroy() {
	_ = pg.signal(syscall.SIGCONT)
	_ = pg.ctl("stop", "-m", "immediate")
}
