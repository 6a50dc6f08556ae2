package docker

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/composer-orchestrator/composer/engine"
)

func TestFromStats(t *testing.T) {
	t.Parallel()
	read := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		json string
		want engine.StatsSample
	}{
		{
			// As Docker 20.10 on cgroup v1 sends it (trimmed).
			name: "cgroup v1",
			json: `{"read":"2026-01-02T03:04:05Z","pids_stats":{"current":6},
				"blkio_stats":{"io_service_bytes_recursive":[{"op":"Read","value":100},{"op":"Write","value":7},{"op":"Read","value":1},{"op":"Total","value":108}]},
				"cpu_stats":{"cpu_usage":{"total_usage":94537690,"percpu_usage":[56001425,38536265]},"system_cpu_usage":5724490000000,"online_cpus":2},
				"precpu_stats":{"cpu_usage":{"total_usage":90000000},"system_cpu_usage":5722490000000},
				"memory_stats":{"usage":2768896,"stats":{"cache":1585152,"inactive_file":1581056,"total_inactive_file":1581056},"limit":25275953152},
				"networks":{"eth0":{"rx_bytes":946,"tx_bytes":10},"eth1":{"rx_bytes":4,"tx_bytes":5}}}`,
			want: engine.StatsSample{
				Read: read, CPUTotal: 94537690, PreCPUTotal: 90000000, SystemCPU: 5724490000000, PreSystemCPU: 5722490000000,
				OnlineCPUs: 2, MemoryUsage: 2768896, MemoryLimit: 25275953152, MemoryCache: 1581056,
				NetRx: 950, NetTx: 15, BlockRead: 101, BlockWrite: 7, PIDs: 6,
			},
		},
		{
			name: "cgroup v2, CPUs counted from the per-CPU usage",
			json: `{"read":"2026-01-02T03:04:05Z",
				"blkio_stats":{"io_service_bytes_recursive":[{"op":"read","value":3},{"op":"write","value":4}]},
				"cpu_stats":{"cpu_usage":{"total_usage":10,"percpu_usage":[4,3,3]},"system_cpu_usage":100},
				"memory_stats":{"usage":1000,"stats":{"inactive_file":200,"file":300},"limit":4000}}`,
			want: engine.StatsSample{
				Read: read, CPUTotal: 10, SystemCPU: 100, OnlineCPUs: 3, MemoryUsage: 1000, MemoryLimit: 4000, MemoryCache: 200,
				BlockRead: 3, BlockWrite: 4,
			},
		},
		{
			// docker stats shows the whole usage when the cache is not below it.
			name: "cache not below the usage",
			json: `{"read":"2026-01-02T03:04:05Z","memory_stats":{"usage":100,"stats":{"inactive_file":100}}}`,
			want: engine.StatsSample{Read: read, MemoryUsage: 100},
		},
		{
			// What the engine sends for a container that is not running.
			name: "not running",
			json: `{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"blkio_stats":{"io_service_bytes_recursive":null},"cpu_stats":{"cpu_usage":{"total_usage":0}},"memory_stats":{}}`,
			want: engine.StatsSample{},
		},
	}
	for _, tc := range tests {
		var s container.StatsResponse
		if err := json.Unmarshal([]byte(tc.json), &s); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := fromStats(s)
		if !got.Read.Equal(tc.want.Read) {
			t.Errorf("%s: Read = %v, want %v", tc.name, got.Read, tc.want.Read)
		}
		got.Read, tc.want.Read = time.Time{}, time.Time{}
		if got != tc.want {
			t.Errorf("%s: fromStats = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
