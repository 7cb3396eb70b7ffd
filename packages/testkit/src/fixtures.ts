// The loopback fixtures live in @jetmon/fixtures (the demo of jetmon2 runs on them); tests keep
// importing them from here, next to the database helpers.
export * from '@jetmon/fixtures'
