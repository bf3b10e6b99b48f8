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

package main

import (
	"net/netip"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// endpointsImpl keeps one core/v1 Endpoints object with every address of
// the Service, rewritten whenever an address changes: the cost the
// EndpointSlice API was made to avoid.
type endpointsImpl struct {
	w     *world
	obj   *corev1.Endpoints
	rv    int64
	tally tally
}

func newEndpoints(w *world) *endpointsImpl { return &endpointsImpl{w: w} }

func (e *endpointsImpl) name() string    { return "endpoints" }
func (e *endpointsImpl) counted() *tally { return &e.tally }

// desired builds the Endpoints object the pods imply: one subset, ready
// addresses sorted by IP, with their node and pod.
func (e *endpointsImpl) desired(pods []*corev1.Pod) *corev1.Endpoints {
	svc := e.w.svc
	sp := svc.Spec.Ports[0]
	subset := corev1.EndpointSubset{
		Ports: []corev1.EndpointPort{{Name: sp.Name, Port: int32(sp.TargetPort.IntValue()), Protocol: sp.Protocol}},
	}
	for _, pod := range pods {
		if pod.Status.PodIP == "" || pod.Status.Phase != corev1.PodRunning {
			continue
		}
		node := pod.Spec.NodeName
		addr := corev1.EndpointAddress{
			IP:       pod.Status.PodIP,
			NodeName: &node,
			TargetRef: &corev1.ObjectReference{
				Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
			},
		}
		if podReady(pod) {
			subset.Addresses = append(subset.Addresses, addr)
		} else {
			subset.NotReadyAddresses = append(subset.NotReadyAddresses, addr)
		}
	}
	sortByIP(subset.Addresses)
	sortByIP(subset.NotReadyAddresses)
	ep := &corev1.Endpoints{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Endpoints"},
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace},
	}
	if len(subset.Addresses)+len(subset.NotReadyAddresses) > 0 {
		ep.Subsets = []corev1.EndpointSubset{subset}
	}
	return ep
}

func (e *endpointsImpl) sync(pods []*corev1.Pod) error {
	want := e.desired(pods)
	kind := "update"
	if e.obj == nil {
		kind = "create"
	} else if apiequality.Semantic.DeepEqual(e.obj.Subsets, want.Subsets) {
		return nil
	}
	e.rv++
	want.ResourceVersion = strconv.FormatInt(e.rv, 10)
	e.obj = want
	return e.tally.add(kind, want)
}

func (e *endpointsImpl) published() [][]string {
	names := []string{}
	if e.obj != nil {
		for _, s := range e.obj.Subsets {
			for _, a := range s.Addresses {
				names = append(names, a.TargetRef.Name)
			}
		}
	}
	return [][]string{names}
}

// sortByIP sorts addresses by IP, numerically.
func sortByIP(addrs []corev1.EndpointAddress) {
	keys := make(map[string]netip.Addr, len(addrs))
	for _, a := range addrs {
		// Pod IPs come from the scenario and always parse.
		keys[a.IP], _ = netip.ParseAddr(a.IP)
	}
	sort.Slice(addrs, func(i, j int) bool { return keys[addrs[i].IP].Less(keys[addrs[j].IP]) })
}

// podReady reports whether the pod's Ready condition is True.
func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
