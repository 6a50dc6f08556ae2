package labels

import (
	"reflect"
	"testing"
)

func TestEncodeDependsOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		deps []Dependency
		want string
	}{
		{"none", nil, ""},
		{"one", []Dependency{{Service: "db", Condition: "service_healthy", Restart: true}}, "db:service_healthy:true"},
		{
			"sorted whatever the input order",
			[]Dependency{{Service: "redis", Condition: "service_started"}, {Service: "db", Condition: "service_completed_successfully"}},
			"db:service_completed_successfully:false,redis:service_started:false",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := EncodeDependsOn(tt.deps); got != tt.want {
				t.Errorf("EncodeDependsOn() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeDependsOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
		want  []Dependency
	}{
		{"empty", "", nil},
		{"one", "db:service_healthy:true", []Dependency{{Service: "db", Condition: "service_healthy", Restart: true}}},
		{
			"several",
			"db:service_completed_successfully:false,redis:service_started:true",
			[]Dependency{{Service: "db", Condition: "service_completed_successfully"}, {Service: "redis", Condition: "service_started", Restart: true}},
		},
		{"service only", "db", []Dependency{{Service: "db"}}},
		{"no restart part", "db:service_healthy", []Dependency{{Service: "db", Condition: "service_healthy"}}},
		{"restart not true", "db:service_started:yes", []Dependency{{Service: "db", Condition: "service_started"}}},
		{
			"empty and malformed entries are skipped",
			",db:service_started:false,,:service_healthy:true,a:b:c:d,",
			[]Dependency{{Service: "db", Condition: "service_started"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := DecodeDependsOn(tt.value); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeDependsOn(%q) = %#v, want %#v", tt.value, got, tt.want)
			}
		})
	}
}

// Decoding what was encoded gives back the dependencies, sorted; encoding
// what was decoded gives back the label.
func TestDependsOnRoundTrip(t *testing.T) {
	t.Parallel()
	tests := [][]Dependency{
		nil,
		{{Service: "db", Condition: "service_healthy", Restart: true}},
		{{Service: "a", Condition: "service_started"}, {Service: "b", Condition: "service_completed_successfully", Restart: true}},
	}
	for _, deps := range tests {
		label := EncodeDependsOn(deps)
		got := DecodeDependsOn(label)
		if !reflect.DeepEqual(got, deps) {
			t.Errorf("DecodeDependsOn(EncodeDependsOn(%v)) = %v", deps, got)
		}
		if again := EncodeDependsOn(got); again != label {
			t.Errorf("EncodeDependsOn(DecodeDependsOn(%q)) = %q", label, again)
		}
	}
}
