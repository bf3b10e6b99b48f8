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

// Package table turns signet objects into the metav1.Table rows that
// `kubectl get` prints. Each resource declares its columns and a function
// that computes one row's cells; this package does the list handling, the
// NAME and AGE columns, and the paging fields every table carries.
package table

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apiserver/pkg/registry/rest"
)

// Column is one resource-specific column, between NAME and AGE.
type Column struct {
	Name        string
	Type        string // "string", "integer", ...
	Description string
	// Priority 0 columns are always shown; higher ones only with -o wide.
	Priority int32
}

// Convertor prints one kind of object as a table.
type Convertor struct {
	columns []metav1.TableColumnDefinition
	cells   func(obj runtime.Object) ([]interface{}, error)
}

var _ rest.TableConvertor = &Convertor{}

var objectMetaDocs = metav1.ObjectMeta{}.SwaggerDoc()

// NewConvertor returns a convertor printing NAME, the given columns, then
// AGE. cells returns the values of the given columns for one object.
func NewConvertor(columns []Column, cells func(obj runtime.Object) ([]interface{}, error)) *Convertor {
	defs := []metav1.TableColumnDefinition{{Name: "Name", Type: "string", Format: "name", Description: objectMetaDocs["name"]}}
	for _, c := range columns {
		defs = append(defs, metav1.TableColumnDefinition{Name: c.Name, Type: c.Type, Description: c.Description, Priority: c.Priority})
	}
	defs = append(defs, metav1.TableColumnDefinition{Name: "Age", Type: "date", Description: objectMetaDocs["creationTimestamp"]})
	return &Convertor{columns: defs, cells: cells}
}

// ConvertToTable implements rest.TableConvertor.
func (c *Convertor) ConvertToTable(_ context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	addRow := func(obj runtime.Object) error {
		m, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		cells, err := c.cells(obj)
		if err != nil {
			return err
		}
		row := metav1.TableRow{Object: runtime.RawExtension{Object: obj}}
		row.Cells = append(row.Cells, m.GetName())
		row.Cells = append(row.Cells, cells...)
		row.Cells = append(row.Cells, Age(m.GetCreationTimestamp()))
		table.Rows = append(table.Rows, row)
		return nil
	}
	if meta.IsListType(object) {
		if err := meta.EachListItem(object, addRow); err != nil {
			return nil, err
		}
	} else if err := addRow(object); err != nil {
		return nil, err
	}
	if l, err := meta.ListAccessor(object); err == nil {
		table.ResourceVersion = l.GetResourceVersion()
		table.Continue = l.GetContinue()
		table.RemainingItemCount = l.GetRemainingItemCount()
	} else if m, err := meta.CommonAccessor(object); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
	if opts, ok := tableOptions.(*metav1.TableOptions); !ok || !opts.NoHeaders {
		table.ColumnDefinitions = c.columns
	}
	return table, nil
}

// Age prints how long ago t was, as kubectl does ("5m", "3d"); "<unknown>"
// for an unset time.
func Age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}
