/*
Copyright 2026 The signet Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package cache

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	hits, misses, size prometheus.Collector
	evictions          prometheus.Counter
	prefetches         prometheus.Counter
	stale              prometheus.Counter
}

func newMetrics(c *Cache) *metrics {
	sum := func(f func(*shard) uint64) func() float64 {
		return func() float64 {
			var n uint64
			for i := range c.shards {
				n += f(&c.shards[i])
			}
			return float64(n)
		}
	}
	return &metrics{
		hits: prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "node_cache_cache_hits_total",
			Help: "Queries answered from a fresh cache entry.",
		}, sum(func(s *shard) uint64 { return s.hits.Load() })),
		misses: prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "node_cache_cache_misses_total",
			Help: "Queries with no fresh cache entry.",
		}, sum(func(s *shard) uint64 { return s.misses.Load() })),
		size: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "node_cache_cache_entries",
			Help: "Cached answers, stale ones included.",
		}, func() float64 { return float64(c.Len()) }),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "node_cache_cache_evictions_total",
			Help: "Entries evicted to stay within the maximum entry count.",
		}),
		prefetches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "node_cache_cache_prefetches_total",
			Help: "Popular entries refreshed before they expired.",
		}),
		stale: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "node_cache_cache_served_stale_total",
			Help: "Expired answers served because every upstream failed.",
		}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.hits, m.misses, m.size, m.evictions, m.prefetches, m.stale}
}
