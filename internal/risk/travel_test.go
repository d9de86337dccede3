package risk

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNearIsExact: impossible, which skips the haversine for points that
// are near, answers as the haversine alone does, for random pairs of
// points: the same place, a few km apart, around the 500 km threshold,
// across the antimeridian and near the poles, along a meridian (where the
// bound is the distance), at thresholds from 0 up, just below the
// distance, and at the bound; and nearly antipodal points on one meridian
// at the smallest threshold near's margin allows.
func TestNearIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	full := func(a, b fix, km, kmh float64) bool {
		d := distanceKm(a.Lat, a.Lon, b.Lat, b.Lon)
		dt := b.Time - a.Time
		return d > km && (dt == 0 || d/(float64(dt)/3.6e12) > kmh)
	}
	skipped := 0
	for i := range 200_000 {
		a := fix{Time: 0, Lat: rng.Float64()*180 - 90, Lon: rng.Float64()*360 - 180}
		b := a
		b.Time = rng.Int64N(int64(3.6e12) * 4)
		switch i % 6 {
		case 0: // the same place
		case 5: // along a meridian, where the bound is the distance
			b.Lat = a.Lat + rng.NormFloat64()*4.5
		case 1: // a few km
			b.Lat, b.Lon = a.Lat+rng.NormFloat64()*0.05, a.Lon+rng.NormFloat64()*0.05
		case 2: // around 500 km: 4.5° of latitude
			b.Lat, b.Lon = a.Lat+rng.NormFloat64()*4.5, a.Lon+rng.NormFloat64()*4.5
		case 3: // across the antimeridian or near a pole
			a.Lat, b.Lat = 89.9*math.Copysign(1, a.Lat), 89.9*math.Copysign(1, a.Lat)
			a.Lon, b.Lon = 179.99, -179.99
		default:
			b.Lat, b.Lon = rng.Float64()*180-90, rng.Float64()*360-180
		}
		km := []float64{0, 1, 5, 500, 499.999, 500.001, 20000}[rng.IntN(7)]
		if d := distanceKm(a.Lat, a.Lon, b.Lat, b.Lon); i%7 < 3 { // about the distance itself
			km = d * []float64{1, 1 - 1e-3, 1 - 1e-7}[i%7]
		} else if i%7 == 3 { // the bound itself, where rounding decides
			km = 6371 * math.Pi / 180 * (math.Abs(b.Lat-a.Lat) + math.Abs(b.Lon-a.Lon))
		}
		if near(a, b, km) {
			skipped++
		}
		if got, want := impossible(a, b, km, 900), full(a, b, km, 900); got != want {
			t.Fatalf("%+v → %+v at %v km: impossible %v, the haversine says %v", a, b, km, got, want)
		}
	}
	if skipped < 30_000 {
		t.Fatalf("the haversine was skipped for %d pairs only", skipped)
	}
	// Nearly antipodal points on one meridian, at the smallest threshold
	// near's margin allows: there the haversine's asin rounds up by more
	// than the margin (one of these came from a review).
	pairs := [][2]fix{{{Lat: -89.99999999995428, Lon: -155.959022500359}, {Time: 1, Lat: 89.99999975589847, Lon: -155.959022500359}}}
	for range 20_000 {
		lon := rng.Float64()*360 - 180
		a := fix{Lat: -90 + math.Pow(10, -rng.Float64()*12)*rng.Float64(), Lon: lon}
		b := fix{Time: 1, Lat: 90 - math.Pow(10, -rng.Float64()*12)*rng.Float64(), Lon: lon}
		pairs = append(pairs, [2]fix{a, b})
	}
	for _, p := range pairs {
		a, b := p[0], p[1]
		km := 6371*math.Pi/180*(math.Abs(b.Lat-a.Lat)+math.Abs(b.Lon-a.Lon))*(1+1e-9) + 1e-9
		if got, want := impossible(a, b, km, 900), full(a, b, km, 900); got != want {
			t.Fatalf("%+v → %+v at %v km: impossible %v, the haversine says %v", a, b, km, got, want)
		}
	}
}
