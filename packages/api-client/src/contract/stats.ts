/** Routes of spec/api.md for this resource. */
export const statsRoutes = {}
