package project

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
)

// The project cache stores a *types.Project in a binary form of its own
// rather than gob or JSON: gob cannot encode nil pointers held in maps
// (types.MappingWithEquals holds them) and decodes a pointer to a zero
// value, or an empty slice, as nil; compose-go's JSON tags omit fields
// (DisabledServices, ComposeFiles, WorkingDir, ...) and empty values.
// This codec walks the value by reflection and writes exactly what
// reflect.DeepEqual compares: nil and empty slices and maps differ, nil
// and non-nil pointers differ, -0.0 is not 0.0, and an interface keeps its
// dynamic type. A value it cannot reproduce (funcs, channels, an interface holding a type not listed in
// dynamicTypes, an unexported field that is not zero) makes encoding fail, and the project is then not cached.

var errCodec = errors.New("project cache: value cannot be encoded")

// dynamicTypes are the concrete types an interface may hold: what the
// YAML decoder and compose-go's conversions put in map[string]any
// extensions. The tag written for one is its index plus one.
var dynamicTypes = []reflect.Type{
	reflect.TypeFor[string](),
	reflect.TypeFor[bool](),
	reflect.TypeFor[int](),
	reflect.TypeFor[int64](),
	reflect.TypeFor[uint64](),
	reflect.TypeFor[float64](),
	reflect.TypeFor[[]any](),
	reflect.TypeFor[map[string]any](),
	reflect.TypeFor[int8](),
	reflect.TypeFor[int16](),
	reflect.TypeFor[int32](),
	reflect.TypeFor[uint](),
	reflect.TypeFor[uint8](),
	reflect.TypeFor[uint16](),
	reflect.TypeFor[uint32](),
	reflect.TypeFor[float32](),
	reflect.TypeFor[[]string](),
	reflect.TypeFor[map[string]string](),
	reflect.TypeFor[[]byte](),
	reflect.TypeFor[map[any]any](),
	reflect.TypeFor[[]map[string]any](),
}

var dynamicTag = func() map[reflect.Type]uint64 {
	m := make(map[reflect.Type]uint64, len(dynamicTypes))
	for i, t := range dynamicTypes {
		m[t] = uint64(i + 1)
	}
	return m
}()

// maxCodecDepth bounds nesting, in encoding (a cyclic value) and in
// decoding (a corrupt entry).
const maxCodecDepth = 256

type encoder struct {
	buf   []byte
	depth int
	// onString, when set, sees every string encoded (map keys included).
	onString func(string)
}

type decoder struct {
	b     []byte
	off   int
	depth int
}

// codecPanic carries an error out of the recursive walk.
type codecPanic struct{ err error }

func codecFail(format string, args ...any) {
	panic(codecPanic{fmt.Errorf("%w: "+format, append([]any{errCodec}, args...)...)})
}

type typeCodec struct {
	enc func(e *encoder, v reflect.Value)
	// dec sets v, which is settable and holds its type's zero value.
	dec func(d *decoder, v reflect.Value)
}

var codecs sync.Map // reflect.Type -> *typeCodec

// encodeValue appends v, of type t, to e.
func encodeValue(e *encoder, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			cp, ok := r.(codecPanic)
			if !ok {
				panic(r)
			}
			err = cp.err
		}
	}()
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w: want a non-nil pointer", errCodec)
	}
	c, err := codecFor(rv.Type().Elem())
	if err != nil {
		return err
	}
	c.enc(e, rv.Elem())
	return nil
}

// decodeValue decodes into *v all of b.
func decodeValue(b []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			// A corrupt entry may make any step fail: it is a miss.
			if cp, ok := r.(codecPanic); ok {
				err = cp.err
				return
			}
			err = fmt.Errorf("%w: %v", errCodec, r)
		}
	}()
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w: want a non-nil pointer", errCodec)
	}
	c, err := codecFor(rv.Type().Elem())
	if err != nil {
		return err
	}
	d := &decoder{b: b}
	c.dec(d, rv.Elem())
	if d.off != len(d.b) {
		return fmt.Errorf("%w: %d bytes left over", errCodec, len(d.b)-d.off)
	}
	return nil
}

// codecFor builds (once) the codec for t, failing if t holds something the
// codec cannot reproduce.
func codecFor(t reflect.Type) (c *typeCodec, err error) {
	if c, ok := codecs.Load(t); ok {
		return c.(*typeCodec), nil
	}
	defer func() {
		if r := recover(); r != nil {
			cp, ok := r.(codecPanic)
			if !ok {
				panic(r)
			}
			err = cp.err
		}
	}()
	building := map[reflect.Type]*typeCodec{}
	c = build(t, building)
	for bt, bc := range building {
		codecs.LoadOrStore(bt, bc)
	}
	return c, nil
}

func build(t reflect.Type, building map[reflect.Type]*typeCodec) *typeCodec {
	if c, ok := codecs.Load(t); ok {
		return c.(*typeCodec)
	}
	if c, ok := building[t]; ok {
		// A recursive type: filled in below before it is used.
		return c
	}
	c := &typeCodec{}
	building[t] = c
	switch t.Kind() {
	case reflect.Bool:
		c.enc = func(e *encoder, v reflect.Value) {
			if v.Bool() {
				e.buf = append(e.buf, 1)
			} else {
				e.buf = append(e.buf, 0)
			}
		}
		c.dec = func(d *decoder, v reflect.Value) {
			switch d.byte() {
			case 0:
			case 1:
				v.SetBool(true)
			default:
				codecFail("bad bool")
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.enc = func(e *encoder, v reflect.Value) { e.buf = binary.AppendVarint(e.buf, v.Int()) }
		c.dec = func(d *decoder, v reflect.Value) {
			x := d.varint()
			if v.OverflowInt(x) {
				codecFail("int overflow")
			}
			v.SetInt(x)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c.enc = func(e *encoder, v reflect.Value) { e.buf = binary.AppendUvarint(e.buf, v.Uint()) }
		c.dec = func(d *decoder, v reflect.Value) {
			x := d.uvarint()
			if v.OverflowUint(x) {
				codecFail("uint overflow")
			}
			v.SetUint(x)
		}
	case reflect.Float32:
		c.enc = func(e *encoder, v reflect.Value) {
			e.buf = binary.AppendUvarint(e.buf, uint64(math.Float32bits(float32(v.Float()))))
		}
		c.dec = func(d *decoder, v reflect.Value) {
			x := d.uvarint()
			if x > math.MaxUint32 {
				codecFail("float32 overflow")
			}
			v.SetFloat(float64(math.Float32frombits(uint32(x))))
		}
	case reflect.Float64:
		c.enc = func(e *encoder, v reflect.Value) { e.buf = binary.AppendUvarint(e.buf, math.Float64bits(v.Float())) }
		c.dec = func(d *decoder, v reflect.Value) { v.SetFloat(math.Float64frombits(d.uvarint())) }
	case reflect.String:
		c.enc = func(e *encoder, v reflect.Value) { e.str(v.String()) }
		c.dec = func(d *decoder, v reflect.Value) { v.SetString(d.str()) }
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			c.enc = func(e *encoder, v reflect.Value) {
				if v.IsNil() {
					e.buf = append(e.buf, 0)
					return
				}
				b := v.Bytes()
				e.buf = binary.AppendUvarint(e.buf, uint64(len(b))+1)
				e.buf = append(e.buf, b...)
			}
			c.dec = func(d *decoder, v reflect.Value) {
				n, ok := d.length()
				if !ok {
					return
				}
				b := make([]byte, n)
				copy(b, d.take(n))
				v.SetBytes(b)
			}
			break
		}
		elem := build(t.Elem(), building)
		c.enc = func(e *encoder, v reflect.Value) {
			if v.IsNil() {
				e.buf = append(e.buf, 0)
				return
			}
			n := v.Len()
			e.buf = binary.AppendUvarint(e.buf, uint64(n)+1)
			e.enter()
			for i := range n {
				elem.enc(e, v.Index(i))
			}
			e.depth--
		}
		c.dec = func(d *decoder, v reflect.Value) {
			n, ok := d.length()
			if !ok {
				return
			}
			s := reflect.MakeSlice(t, n, n)
			d.enter()
			for i := range n {
				elem.dec(d, s.Index(i))
			}
			d.depth--
			v.Set(s)
		}
	case reflect.Array:
		elem := build(t.Elem(), building)
		n := t.Len()
		c.enc = func(e *encoder, v reflect.Value) {
			e.enter()
			for i := range n {
				elem.enc(e, v.Index(i))
			}
			e.depth--
		}
		c.dec = func(d *decoder, v reflect.Value) {
			d.enter()
			for i := range n {
				elem.dec(d, v.Index(i))
			}
			d.depth--
		}
	case reflect.Map:
		key := build(t.Key(), building)
		val := build(t.Elem(), building)
		c.enc = func(e *encoder, v reflect.Value) {
			if v.IsNil() {
				e.buf = append(e.buf, 0)
				return
			}
			e.buf = binary.AppendUvarint(e.buf, uint64(v.Len())+1)
			e.enter()
			it := v.MapRange()
			for it.Next() {
				key.enc(e, it.Key())
				val.enc(e, it.Value())
			}
			e.depth--
		}
		c.dec = func(d *decoder, v reflect.Value) {
			n, ok := d.length()
			if !ok {
				return
			}
			m := reflect.MakeMapWithSize(t, n)
			k := reflect.New(t.Key()).Elem()
			x := reflect.New(t.Elem()).Elem()
			d.enter()
			for range n {
				k.SetZero()
				x.SetZero()
				key.dec(d, k)
				val.dec(d, x)
				m.SetMapIndex(k, x)
			}
			d.depth--
			if m.Len() != n {
				codecFail("duplicate map key")
			}
			v.Set(m)
		}
	case reflect.Pointer:
		elem := build(t.Elem(), building)
		c.enc = func(e *encoder, v reflect.Value) {
			if v.IsNil() {
				e.buf = append(e.buf, 0)
				return
			}
			e.buf = append(e.buf, 1)
			e.enter()
			elem.enc(e, v.Elem())
			e.depth--
		}
		c.dec = func(d *decoder, v reflect.Value) {
			switch d.byte() {
			case 0:
				return
			case 1:
			default:
				codecFail("bad pointer")
			}
			p := reflect.New(t.Elem())
			d.enter()
			elem.dec(d, p.Elem())
			d.depth--
			v.Set(p)
		}
	case reflect.Interface:
		c.enc = func(e *encoder, v reflect.Value) {
			if v.IsNil() {
				e.buf = append(e.buf, 0)
				return
			}
			dyn := v.Elem()
			tag, ok := dynamicTag[dyn.Type()]
			if !ok {
				codecFail("interface holding %s", dyn.Type())
			}
			dc, err := codecFor(dyn.Type())
			if err != nil {
				panic(codecPanic{err})
			}
			e.buf = binary.AppendUvarint(e.buf, tag)
			e.enter()
			dc.enc(e, dyn)
			e.depth--
		}
		c.dec = func(d *decoder, v reflect.Value) {
			tag := d.uvarint()
			if tag == 0 {
				return
			}
			if tag > uint64(len(dynamicTypes)) {
				codecFail("bad interface tag")
			}
			dt := dynamicTypes[tag-1]
			if !dt.AssignableTo(t) {
				codecFail("%s is not assignable to %s", dt, t)
			}
			dc, err := codecFor(dt)
			if err != nil {
				panic(codecPanic{err})
			}
			x := reflect.New(dt).Elem()
			d.enter()
			dc.dec(d, x)
			d.depth--
			v.Set(x)
		}
	case reflect.Struct:
		n := t.NumField()
		fields := make([]*typeCodec, n)
		for i := range n {
			f := t.Field(i)
			if !f.IsExported() {
				// It cannot be set, but it can be zero, as decoding
				// leaves it (SecretConfig's marshallContent, false in a
				// loaded project): the encoder checks it is.
				continue
			}
			fields[i] = build(f.Type, building)
		}
		// Only the fields that are not zero are written, each as the
		// distance from the previous one, then 0: a service sets a few
		// of its hundred-odd fields.
		c.enc = func(e *encoder, v reflect.Value) {
			e.enter()
			prev := -1
			for i := range n {
				fv := v.Field(i)
				if fv.IsZero() {
					continue
				}
				if fields[i] == nil {
					codecFail("%s has its unexported field %s set", t, t.Field(i).Name)
				}
				e.buf = binary.AppendUvarint(e.buf, uint64(i-prev))
				prev = i
				fields[i].enc(e, fv)
			}
			e.buf = append(e.buf, 0)
			e.depth--
		}
		c.dec = func(d *decoder, v reflect.Value) {
			d.enter()
			i := -1
			for {
				delta := d.uvarint()
				if delta == 0 {
					break
				}
				if delta > uint64(n) || i+int(delta) >= n {
					codecFail("bad field index")
				}
				i += int(delta)
				if fields[i] == nil {
					codecFail("bad field index")
				}
				fields[i].dec(d, v.Field(i))
			}
			d.depth--
		}
	default:
		codecFail("unsupported type %s", t)
	}
	return c
}

func (e *encoder) enter() {
	if e.depth++; e.depth > maxCodecDepth {
		codecFail("nested too deep")
	}
}

func (e *encoder) str(s string) {
	if e.onString != nil {
		e.onString(s)
	}
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (d *decoder) enter() {
	if d.depth++; d.depth > maxCodecDepth {
		codecFail("nested too deep")
	}
}

func (d *decoder) byte() byte {
	if d.off >= len(d.b) {
		codecFail("truncated")
	}
	b := d.b[d.off]
	d.off++
	return b
}

func (d *decoder) uvarint() uint64 {
	x, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		codecFail("bad varint")
	}
	d.off += n
	return x
}

func (d *decoder) varint() int64 {
	x, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		codecFail("bad varint")
	}
	d.off += n
	return x
}

func (d *decoder) take(n int) []byte {
	if n < 0 || n > len(d.b)-d.off {
		codecFail("truncated")
	}
	b := d.b[d.off : d.off+n]
	d.off += n
	return b
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)-d.off) {
		codecFail("truncated")
	}
	return string(d.take(int(n)))
}

// length reads a slice's or map's length: false for nil. Every element
// takes at least a byte, so a length beyond what is left is corrupt.
func (d *decoder) length() (int, bool) {
	n := d.uvarint()
	if n == 0 {
		return 0, false
	}
	n--
	if n > uint64(len(d.b)-d.off) {
		codecFail("bad length")
	}
	return int(n), true
}
