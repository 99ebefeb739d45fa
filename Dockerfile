# The OmniStream server image (used by docker-compose.yml).
# The agent console (web/) is built with the dev dependencies in a stage of its own.
FROM node:20-slim AS console
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY web web
RUN npx tsc -p web/tsconfig.json && npx vite build --config web/vite.config.ts

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY . .
COPY --from=console /build/web/dist web/dist
EXPOSE 3000
USER node
CMD ["node", "--import=tsx", "src/main.ts"]
