/** A node of the dependency graph: an app id and the ids it depends on. */
export interface GraphNode {
  id: string
  dependsOn: readonly string[]
}

/**
 * The first dependency cycle, as the ids along it with the first repeated at
 * the end (`['a', 'b', 'a']`), or undefined. Nodes are visited in list order,
 * so the answer is deterministic.
 */
export function findCycle(nodes: readonly GraphNode[]): string[] | undefined {
  const byId = new Map(nodes.map((node) => [node.id, node]))
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []

  const visit = (id: string): string[] | undefined => {
    const seen = state.get(id)
    if (seen === 'done') return undefined
    if (seen === 'visiting') return [...stack.slice(stack.indexOf(id)), id]
    state.set(id, 'visiting')
    stack.push(id)
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      if (!byId.has(dep)) continue
      const cycle = visit(dep)
      if (cycle) return cycle
    }
    stack.pop()
    state.set(id, 'done')
    return undefined
  }

  for (const node of nodes) {
    const cycle = visit(node.id)
    if (cycle) return cycle
  }
  return undefined
}

/**
 * Ids ordered so that every app comes after the apps it depends on; among
 * apps free to go, list order is kept. Assumes no cycle (see findCycle).
 */
export function dependencyOrder(nodes: readonly GraphNode[]): string[] {
  const byId = new Map(nodes.map((node) => [node.id, node]))
  const placed = new Set<string>()
  const order: string[] = []
  const place = (id: string): void => {
    if (placed.has(id)) return
    placed.add(id)
    for (const dep of byId.get(id)?.dependsOn ?? []) if (byId.has(dep)) place(dep)
    order.push(id)
  }
  for (const node of nodes) place(node.id)
  return order
}
